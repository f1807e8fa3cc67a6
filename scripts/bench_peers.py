"""The report's peer table (TARGETS.md, "Peers measured the same way"): seL4's and Linux's icount
instruction counts beside Tachyon's, with the ratio.

Tachyon's figure for a row is the median of the benchmark the row names (bench/targets.py PEERS:
a TARGETS.md tag first, then its globs) in the first variant that has one. A row with a baseline
subtracts that benchmark's median from the same variant: sel4bench's overhead loop, the same
code with a two-byte nop in place of `syscall`, so that the figure counts what sel4bench counts
(the kernel path between the two clock reads, not the user-side stub).
"""

from __future__ import annotations

from typing import Optional

import bench_report as R
import targets as T


def measure(p: T.Peer, series: dict, variant: Optional[str], tpn) -> tuple[Optional[float], str]:
    """Tachyon's figure for a peer row and how it was computed (benchmark keys), or (None, "")."""
    variants = [variant] if variant else list(dict.fromkeys(s.variant for s in series.values()))
    for v in variants:
        names = {s.benchmark: s.target for s in series.values() if s.variant == v}
        hit = next((h for h in (T.pick(tid, (), names) for tid in p.targets) if h), None)
        hit = hit or T.pick("", p.benchmarks, names)
        if not hit:
            continue
        key = (lambda n: f"{v}/{n}" if v else n)  # noqa: E731
        s = series[key(hit[0])]
        ours = R.summarize(s, tpn).get("median")
        if ours is None or not p.baseline:
            return ours, f"`{s.key}`"
        base = T.pick("", p.baseline, names)
        if not base:
            return None, f"`{s.key}` without its baseline `{p.baseline[0]}`"
        b = series[key(base[0])]
        bmed = R.summarize(b, tpn).get("median")
        if bmed is None:
            return None, f"`{s.key}` without its baseline `{b.key}`"
        return ours - bmed, f"`{s.key}` − `{b.key}`"
    return None, ""


def section(series: dict, variant: Optional[str], mode: Optional[str], tpn) -> list[str]:
    """The report's peers section, as Markdown lines."""
    out = ["## Peers (icount, instructions)", ""]
    if mode != "icount":
        out += [f"The peer figures are icount instruction counts; this run is in {mode} mode, so no "
                "ratio is given.", ""]
    rows = []
    for p in T.PEERS:
        ours, how = measure(p, series, variant, tpn)
        sel4 = " / ".join(f"{lbl + ' ' if lbl else ''}{R._n(x)}" for lbl, x in p.sel4) or "—"
        linux = "; ".join(f"{lbl + ' ' if lbl else ''}{R._n(x)}" for lbl, x in p.linux) or "—"
        ratio = lambda vals: ("; ".join(f"{ours / x:.2f}x" for _, x in vals) if vals and ours and  # noqa: E731
                              mode == "icount" else "—")
        mine = f"{R._n(ours)} ({how})" if ours is not None else ("not yet measured" + (f": {how}" if how else ""))
        rows.append([p.what, sel4, linux, mine, ratio(p.sel4), ratio(p.linux)])
    out += R._table(["what", "seL4", "Linux 6.1", "Tachyon", "Tachyon / seL4", "Tachyon / Linux"], rows)
    out += ["", "seL4 counts a one-way IPC from a TSC read just before the sender's `syscall` to one just "
            "after the kernel returns to the receiver, minus the timer overhead; Tachyon's comparable "
            "figure must be counted the same way (TARGETS.md). A row computed as A − B subtracts "
            "sel4bench's overhead loop B (the same code with a two-byte nop in place of `syscall`, "
            "measured in the same boot) from the end-to-end figure A; the end-to-end figures are in "
            "the targets table and under all benchmarks.", ""]
    return out

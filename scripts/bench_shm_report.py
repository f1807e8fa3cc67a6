"""The report's shared-memory IPC section (issue 5): ubench's SPSC ring benchmarks (ring/*,
bench/user/bench_ring.c), the transfer cost by message size (xfer/*, bench_xfer.c) with the size
where zero-copy starts to win, and the cross-CPU ring benchmarks (xcpu/*, bench_xcpu.c), which
only give figures in cycles mode with two CPUs and are otherwise listed as skipped with
libbench's reason.

Medians and p99 are over the pooled samples of every repetition and boot of a variant
(bench_report's summarize), per message. Ratios are only formed within one variant, i.e. from
benchmarks that ran in the same boots.
"""

from __future__ import annotations

import re
from typing import Optional

import bench_report as R

PREFIXES = ("ring/", "xfer/", "xcpu/")
BATCHES = (1, 16, 32)
# Transfer variants in the order of the table, with what each one's figure includes.
XFER = (
    ("copy", "memcpy of the message into memory the receiver reads + descriptor through a ring + "
             "the receiver reading the data"),
    ("pool", "descriptor through a ring + the receiver reading the data in the shared pool + the "
             "buffer handed back through a second ring"),
    ("grant", "SYS_MEM_GRANT (move) + sending the capability + SYS_MEMOBJ_MAP + the receiver "
              "reading the data + unmap"),
)
_XFER = re.compile(r"^xfer/([a-z]+)/size:(\d+)$")


def _size(n: int) -> str:
    for unit, k in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= k and n % k == 0:
            return f"{n // k} {unit}"
    return f"{n} B"


def _stats(series: dict, v: str, tpn) -> dict[str, dict]:
    return {s.benchmark: R.summarize(s, tpn) for s in series.values()
            if s.variant == v and s.benchmark.startswith(PREFIXES)}


def crossover(base: dict[int, float], other: dict[int, float]) -> Optional[int]:
    """The smallest measured size from which `other` costs less than `base` at every larger
    size measured by both, or None when it never does (or nothing was measured)."""
    sizes = sorted(set(base) & set(other))
    win = None
    for n in reversed(sizes):
        if other[n] < base[n]:
            win = n
        else:
            break
    return win


def xfer_table(st: dict[str, dict]) -> tuple[list[list[str]], dict[str, dict[int, float]]]:
    """Rows per size (median / p99 per variant, then pool / copy) and the medians by variant."""
    med: dict[str, dict[int, float]] = {}
    p99: dict[str, dict[int, float]] = {}
    for name, s in st.items():
        m = _XFER.match(name)
        if m and s.get("median") is not None:
            med.setdefault(m.group(1), {})[int(m.group(2))] = s["median"]
            p99.setdefault(m.group(1), {})[int(m.group(2))] = s.get("p99")
    rows = []
    for n in sorted({n for d in med.values() for n in d}):
        cells = [_size(n)]
        for kind, _ in XFER:
            got = med.get(kind, {}).get(n)
            cells.append("—" if got is None else f"{R._n(got)} / {R._n(p99[kind][n])}")
        c, p = med.get("copy", {}).get(n), med.get("pool", {}).get(n)
        cells.append(f"{p / c:.2f}x" if c and p is not None else "—")
        rows.append(cells)
    return rows, med


def section(series: dict, skips: dict, variant: Optional[str], mode: Optional[str], tpn,
            unit: str = "ticks") -> list[str]:
    out = ["## Shared-memory IPC (issue 5)", ""]
    mine = [s for s in series.values() if s.benchmark.startswith(PREFIXES)]
    skipped_here = {k: why for k, why in skips.items() if k[1].startswith(PREFIXES)}
    variants = [variant] if variant else list(dict.fromkeys(
        [s.variant for s in mine] + [v for v, _ in skipped_here]))
    if not variants:
        return out + ["No shared-memory benchmarks in this run.", ""]
    v = variants[0]
    st = _stats(series, v, tpn)
    if len(variants) > 1:
        out += [f"Variant {v} (the others ran the same benchmarks; see All benchmarks).", ""]

    ring = []
    for k in BATCHES:
        poll, note = st.get(f"ring/poll/batch:{k}"), st.get(f"ring/notify/batch:{k}")
        if not poll and not note:
            continue
        cell = (lambda x: f"{R._n(x['median'])} / {R._n(x.get('p99'))}" if x and x.get("median") is not None
                else "—")  # noqa: E731
        ratio = (f"{note['median'] / poll['median']:.2f}x"
                 if poll and note and poll.get("median") and note.get("median") is not None else "—")
        s = series.get(f"{v}/ring/notify/batch:{k}" if v else f"ring/notify/batch:{k}")
        sig, msgs = (s.counter("ring_signals"), s.counter("ring_msgs")) if s else (None, None)
        per = f"{sig / msgs:.3f}" if sig is not None and msgs else "—"
        ring.append([str(k), cell(poll), cell(note), ratio, per])
    if ring:
        out += [f"SPSC ring on one CPU, per 64-byte message ({unit}, median / p99). poll: one thread "
                "sends then receives, nobody sleeps, no system call. notify: producer and consumer "
                "threads on one CPU, ring of max(batch, 2) slots, each side sleeping once per "
                "ring-full (SYS_NOTIFY_WAIT) and woken by the other's SYS_SIGNAL. Signals per "
                "message: both sides' SYS_SIGNALs over the messages of a measured run.", ""]
        out += R._table(["batch", "poll", "notify", "notify / poll", "signals per message"], ring) + [""]

    rows, med = xfer_table(st)
    if rows:
        out += [f"Transfer cost by message size ({unit} per message, median / p99), one thread "
                "playing sender and receiver. What each includes:", ""]
        out += [f"- {kind}: {what}" for kind, what in XFER] + [""]
        out += R._table(["size"] + [k for k, _ in XFER] + ["pool / copy"], rows) + [""]
        for kind, _ in XFER[1:]:
            if kind not in med or "copy" not in med:
                out.append(f"- {kind} vs copy: not measured in this run.")
                continue
            n = crossover(med["copy"], med[kind])
            top = max(set(med["copy"]) & set(med[kind]), default=None)
            if n is None:
                out.append(f"- {kind} vs copy: {kind} costs more at every size measured (up to "
                           f"{_size(top) if top else '—'}).")
            else:
                out.append(f"- {kind} vs copy: **crossover at {_size(n)}**: {kind} costs less from "
                           f"{_size(n)} up to the largest size measured ({_size(top)}).")
        if mode == "icount":
            out.append("- icount counts each iteration of the copy's `rep movsb` as one "
                       "instruction (one per byte), while hardware moves 16-64 bytes a cycle with "
                       "it: the icount crossover is a path-length statement and lies well below a "
                       "cycles-mode one.")
        out.append("")

    xcpu = []
    for name in sorted({n for n in st if n.startswith("xcpu/")} |
                       {b for (vv, b) in skipped_here if vv == v and b.startswith("xcpu/")}):
        if (v, name) in skipped_here:
            xcpu.append([f"`{name}`", "skipped", "—", skipped_here[(v, name)]])
        elif st[name].get("median") is not None:
            med_x = st[name]["median"]
            rate = (f"{R._n(1e9 / (med_x / tpn))} msgs/s" if "stream" in name and tpn and med_x
                    else "")
            xcpu.append([f"`{name}`", R._n(med_x), R._n(st[name].get("p99")), rate])
    if xcpu:
        out += [f"Cross-CPU ring ({unit}; round trip per sample, stream per message). These mean "
                "something only in cycles mode with two CPUs; elsewhere libbench records them as "
                "skipped, with the reason.", ""]
        out += R._table(["benchmark", "median", "p99", "note"], xcpu) + [""]
    return out

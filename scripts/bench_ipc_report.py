"""The report's IPC section (issue 4): ubench's endpoint IPC benchmarks beside the null system
call of the same boot, the fast/slow path ratio measured in the same boot, the share of calls
that took the fast path (from the kernel's IPC statistics, which ubench writes into each entry
as counters), and issue 4's own targets:
  - the fast-path call + reply round trip between two address spaces takes at most
    FAST_RT_BUDGET instructions (icount; user stubs and loop included);
  - the slow path's round trip is at least SLOW_RATIO times the fast path's.

Medians are over the pooled samples of every repetition and boot of a variant (bench_report's
summarize). A ratio is only formed within one variant, i.e. from boots of one configuration
where both benchmarks ran back to back.
"""

from __future__ import annotations

from typing import Optional

import bench_report as R

FAST_RT_BUDGET = 600  # instructions, issue 4
SLOW_RATIO = 2.0  # issue 4: slow >= 2x fast

NULL = "syscall/null"
# Shown first in the detail table, as the references the IPC figures are read against.
REFERENCES = (NULL, "syscall/nop_baseline", "cap/info", "cap/check")
# (label, fast, slow) round trips measured in the same boot.
PAIRS = (
    ("inter-AS", "ipc/call_reply/inter_as/fast", "ipc/call_reply/inter_as/slow"),
    ("intra-AS", "ipc/call_reply/intra_as/fast", "ipc/call_reply/intra_as/slow"),
)
COUNTERS = ("ipc_fast_calls", "ipc_slow_calls", "ipc_fast_reply_recvs", "ipc_slow_reply_recvs")


def _is_ipc(name: str) -> bool:
    return name.startswith("ipc/")


def _medians(series: dict, v: str, tpn) -> dict[str, float]:
    out = {}
    for s in series.values():
        if s.variant == v:
            m = R.summarize(s, tpn).get("median")
            if m is not None:
                out[s.benchmark] = m
    return out


def path_share(s: R.Series) -> Optional[str]:
    """'fast F of N calls, F' of N' reply_recvs' summed over every repetition, or None."""
    sums = {c: sum(e[c] for e in s.entries if isinstance(e.get(c), (int, float))) for c in COUNTERS}
    if not any(isinstance(e.get(c), (int, float)) for e in s.entries for c in COUNTERS):
        return None
    fc, sc, fr, sr = (int(sums[c]) for c in COUNTERS)
    pct = (lambda a, b: f" ({100 * a / (a + b):.1f}%)" if a + b else "")  # noqa: E731
    return f"{fc:,} of {fc + sc:,} calls{pct(fc, sc)}, {fr:,} of {fr + sr:,} reply_recvs{pct(fr, sr)}"


def checks(med: dict[str, float], mode: Optional[str]) -> list[tuple[str, str, str]]:
    """(what, figure, verdict) for issue 4's targets and the ratios, from one variant's medians."""
    out = []
    fast = med.get(PAIRS[0][1])
    if fast is not None:
        if mode == "icount":
            verdict = "met" if fast <= FAST_RT_BUDGET else "missed"
        else:
            verdict = f"not judged ({mode} mode: the budget counts instructions)"
        out.append((f"fast-path inter-AS round trip <= {FAST_RT_BUDGET} instructions",
                    R._n(fast), verdict))
    for label, f, s in PAIRS:
        if med.get(f) and med.get(s) is not None:
            ratio = med[s] / med[f]
            verdict = ("met" if ratio >= SLOW_RATIO else "missed") if label == "inter-AS" else "reported"
            out.append((f"{label} slow / fast round trip (>= {SLOW_RATIO:g}x)", f"{ratio:.2f}x", verdict))
    booted = med.get("ipc/call_reply/inter_as/as_booted")
    if booted is not None:
        out.append(("inter-AS round trip, path as the boot option fastpath= set it", R._n(booted),
                    "reported"))
    if fast is not None:
        out.append(("inter-AS fast round trip / 2 (one way, IPC-1 read from the round trip)",
                    R._n(fast / 2), "reported"))
    for name in ("ipc/call/inter_as/oneway/fast", "ipc/reply_recv/inter_as/oneway/fast"):
        if name in med:
            out.append((f"{name} (measured, sel4bench's count)", R._n(med[name]), "reported"))
    return out


def section(series: dict, variant: Optional[str], mode: Optional[str], tpn, unit: str = "ticks") -> list[str]:
    out = ["## IPC (issue 4)", ""]
    variants = [variant] if variant else list(dict.fromkeys(
        s.variant for s in series.values() if _is_ipc(s.benchmark)))
    variants = [v for v in variants if any(s.variant == v and _is_ipc(s.benchmark) for s in series.values())]
    if not variants:
        return out + ["No IPC benchmarks in this run.", ""]

    rows = []
    for v in variants:
        med = _medians(series, v, tpn)
        for what, fig, verdict in checks(med, mode):
            word = f"**{verdict}**" if verdict in ("met", "missed") else verdict
            rows.append(([v] if len(variants) > 1 else []) + [what, fig, word])
    if rows:
        head = (["variant"] if len(variants) > 1 else []) + ["check", unit, "verdict"]
        out += R._table(head, rows) + [""]

    v = variants[0]
    med = _medians(series, v, tpn)
    null = med.get(NULL)
    names = [n for n in REFERENCES if n in med] + sorted(n for n in med if _is_ipc(n))
    detail = []
    for n in names:
        s = series[f"{v}/{n}" if v else n]
        st = R.summarize(s, tpn)
        times = f"{med[n] / null:.2f}x" if null and n != NULL else ("1x" if n == NULL else "—")
        detail.append([f"`{n}`", R._n(med[n]), R._n(st.get("p99")), times, path_share(s) or "—"])
    out += [f"Variant {v or '(none)'}: every IPC benchmark beside the null system call of the same "
            f"boot(s); per-operation {unit}, one operation = one round trip unless the name says "
            "oneway. The fast/slow variants set the path themselves (IPC_CTL_FASTPATH) and fail "
            "unless the kernel's statistics show the path their name says; fast path shows what the "
            "statistics counted over the measured loops.", ""]
    out += R._table(["benchmark", "median", "p99", f"/ {NULL}", "fast path"], detail) + [""]
    return out

"""The report's shared-memory IPC section (issue 5): request/response round trips through the
user-level transports with the echo service (transport/*, bench/user/bench_transport.c) beside
the raw endpoint call + reply of the same boots, ubench's SPSC ring benchmarks within one
process (ring/poll, ring/notify, bench_ring.c) and between two processes through a memory
object (ring/proc/*, bench_ring_proc.c), the transfer cost by message size (xfer/*,
bench_xfer.c) with the sizes where the shared pool and page grants start to win, and the
cross-CPU ring benchmarks (xcpu/*, bench_xcpu.c), which only give figures in cycles mode with
two CPUs and are otherwise listed as skipped with libbench's reason.

Medians and p99 are over the pooled samples of every repetition and boot of a variant
(bench_report's summarize), per message. Ratios are only formed within one variant, i.e. from
benchmarks that ran in the same boots.
"""

from __future__ import annotations

import re
from typing import Optional

import bench_report as R

PREFIXES = ("transport/", "ring/", "xfer/", "xcpu/")
BATCHES = (1, 16, 32)
TRANSPORTS = ("fastpath", "ring", "zcopy")
# The raw endpoint round trip the transports are compared with (bench_ipc.c).
ENDPOINT_RT = "ipc/call_reply/inter_as/fast"
# Transfer variants in the order of the table, with what each one's figure includes.
XFER = (
    ("copy", "memcpy of the message into memory the receiver reads + descriptor through a ring + "
             "the receiver reading the data"),
    ("pool", "descriptor through a ring + the receiver reading the data in the shared pool + the "
             "buffer handed back through a second ring"),
    ("grant", "SYS_MEM_GRANT (move) of the sender's pages + the capability moved to another "
              "process in an endpoint call (slow path: capability transfer) + its SYS_MEMOBJ_MAP "
              "(read-only) + its reading the data + SYS_MEM_UNMAP + deleting the capability (the "
              "frames freed) + its reply; the sender mapping and writing fresh pages before each "
              "sample is not counted; 4 KiB and up only (whole pages)"),
)
# The ratio columns of the transfer table: (numerator, denominator).
RATIOS = (("pool", "copy"), ("grant", "copy"), ("grant", "pool"))
_XFER = re.compile(r"^xfer/([a-z]+)/size:(\d+)$")
_TRANSPORT = re.compile(r"^transport/([a-z]+)/call_reply/size:(\d+)$")


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
    """Rows per size (median / p99 per variant, then the RATIOS of medians) and the medians by
    variant."""
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
        for kind, base in RATIOS:
            a, b = med.get(kind, {}).get(n), med.get(base, {}).get(n)
            cells.append(f"{a / b:.2f}x" if b and a is not None else "—")
        rows.append(cells)
    return rows, med


def transport_table(st: dict[str, dict], endpoint: Optional[dict]) -> list[list[str]]:
    """Rows per transport and size: median, p99, and the median over the endpoint round trip's."""
    found = []
    for name, s in st.items():
        m = _TRANSPORT.match(name)
        if m and s.get("median") is not None:
            order = TRANSPORTS.index(m.group(1)) if m.group(1) in TRANSPORTS else len(TRANSPORTS)
            found.append((int(m.group(2)), order, m.group(1), s))
    ep = endpoint.get("median") if endpoint else None
    return [[t, _size(n), R._n(s["median"]), R._n(s.get("p99")),
             f"{s['median'] / ep:.2f}x" if ep else "—"] for n, _, t, s in sorted(found)]


def _cell(x: Optional[dict]) -> str:
    return f"{R._n(x['median'])} / {R._n(x.get('p99'))}" if x and x.get("median") is not None else "—"


def _ratio(a: Optional[dict], b: Optional[dict]) -> str:
    """a's median over b's."""
    if a and b and a.get("median") is not None and b.get("median"):
        return f"{a['median'] / b['median']:.2f}x"
    return "—"


def _per_message(series: dict, v: str, name: str) -> str:
    s = series.get(f"{v}/{name}" if v else name)
    sig, msgs = (s.counter("ring_signals"), s.counter("ring_msgs")) if s else (None, None)
    return f"{sig / msgs:.3f}" if sig is not None and msgs else "—"


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

    tp = transport_table(st, R.summarize(series[f"{v}/{ENDPOINT_RT}" if v else ENDPOINT_RT], tpn)
                         if (f"{v}/{ENDPOINT_RT}" if v else ENDPOINT_RT) in series else None)
    if tp:
        out += [f"Request/response round trip through the transport interface ({unit}, one call: "
                "transport_buffer, writing the request, transport_call_in_place, reading the "
                "response in place), with the echo service process answering each byte (its "
                "per-byte work is in every figure). Beside it, the raw endpoint call + reply of "
                f"a 7-word register message between two processes (`{ENDPOINT_RT}`) of the same "
                "boots. Sizes a transport cannot carry in place are not measured (fastpath: 512 B, "
                "ring: 4088 B).", ""]
        out += R._table(["transport", "size", "median", "p99", f"/ {ENDPOINT_RT}"], tp) + [""]

    ring = []
    for k in BATCHES:
        names = {w: f"ring/{w}/batch:{k}" for w in ("poll", "notify", "proc/poll", "proc/notify")}
        got = {w: st.get(n) for w, n in names.items()}
        if not any(got.values()):
            continue
        ring.append([str(k), _cell(got["poll"]), _cell(got["notify"]), _ratio(got["notify"], got["poll"]),
                     _per_message(series, v, names["notify"]), _cell(got["proc/poll"]),
                     _cell(got["proc/notify"]), _ratio(got["proc/notify"], got["notify"]),
                     _per_message(series, v, names["proc/notify"])])
    if ring:
        out += [f"SPSC ring on one CPU, per 64-byte message ({unit}, median / p99). poll: one thread "
                "sends then receives, nobody sleeps, no system call. notify: producer and consumer "
                "threads on one CPU, ring of max(batch, 2) slots, each side sleeping once per "
                "ring-full (SYS_NOTIFY_WAIT) and woken by the other's SYS_SIGNAL. Signals per "
                "message: both sides' SYS_SIGNALs over the messages of a measured run. The 2-process "
                "columns put the ring in a memory object mapped by ubench (producer) and the "
                "shm_peer process (consumer): notify as above with address-space switches; poll "
                "with nobody sleeping, which on one CPU means the producer yields to the consumer "
                "process after each batch (SYS_YIELD there and back included).", ""]
        out += R._table(["batch", "poll", "notify", "notify / poll", "signals per message",
                         "2 processes: poll", "2 processes: notify", "notify: 2 processes / 1",
                         "2 processes: signals per message"], ring) + [""]
    rows, med = xfer_table(st)
    if rows:
        out += [f"Transfer cost by message size ({unit} per message, median / p99); copy and pool: "
                "one thread playing sender and receiver; grant: the receiver is another process. "
                "What each includes:", ""]
        out += [f"- {kind}: {what}" for kind, what in XFER] + [""]
        out += R._table(["size"] + [k for k, _ in XFER] + [f"{a} / {b}" for a, b in RATIOS], rows) + [""]
        for kind, base in RATIOS:
            if kind not in med or base not in med:
                out.append(f"- {kind} vs {base}: not measured in this run.")
                continue
            n = crossover(med[base], med[kind])
            both = set(med[base]) & set(med[kind])
            lo, top = min(both, default=None), max(both, default=None)
            span = f"{_size(lo)} to {_size(top)}" if both else "—"
            if n is None:
                out.append(f"- {kind} vs {base}: no crossover: {kind} costs at least as much at "
                           f"{_size(top) if top else '—'}, the largest size measured by both ({span}).")
            else:
                out.append(f"- {kind} vs {base}: **crossover at {_size(n)}**: {kind} costs less from "
                           f"{_size(n)} up to the largest size measured by both ({span}).")
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

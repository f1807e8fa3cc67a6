#!/usr/bin/env python3
"""Turn a Tachyon trace into Chrome/Perfetto trace JSON and per-event latency histograms.

    scripts/trace_export.py INPUT --out DIR [--format auto|shm|serial] [--no-png]

INPUT is either the file behind the ivshmem device (scripts/qemu.sh --trace FILE), or a serial log
holding the fallback dump (lines between TRACE-BEGIN and TRACE-END). The binary layout is
kernel/trace/trace_abi.h; docs/tracing.md describes the whole path.

Writes into DIR:
  trace.json     Chrome trace-event JSON: open in https://ui.perfetto.dev or chrome://tracing.
                 pid = CPU, tid = thread; IRQs, exceptions and system calls are complete ("X")
                 slices from their entry/exit pairs, everything else an instant ("i").
  latency.txt    per span kind (e.g. "irq 0x30", "exc #PF"): count, min, median, p99, max in TSC
                 ticks and microseconds, and a log2 histogram; then event counts per type.
  latency.json   the same numbers, for scripts.
  latency.png    the histograms as a plot, when matplotlib is installed (and not --no-png).

Percentiles use the nearest-rank method (the value at rank ceil(p/100 * n)), so every reported
latency is one that was actually measured.

Exit status: 0 on success, 1 when the input is not a valid trace (the message says why), 2 for
bad usage.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import struct
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Optional

MAGIC = 0x4352545948434154  # b"TACHYTRC" as a little-endian u64
VERSION = 1
EVENT_BYTES = 32
FIXED_HEADER = 128
CPU_INFO = 32
STATE_RUNNING = 1
STATE_FINISHED = 2

TYPES = {
    1: "syscall_enter",
    2: "syscall_exit",
    3: "ipc_send",
    4: "ipc_recv",
    5: "ipc_reply",
    6: "ctx_switch",
    7: "sched_pick",
    8: "irq_enter",
    9: "irq_exit",
    10: "exc_enter",
    11: "page_fault",
    12: "exc_exit",
    13: "mark",
}
SYSCALL_ENTER, SYSCALL_EXIT, IPC_SEND, IPC_RECV, IPC_REPLY = 1, 2, 3, 4, 5
CTX_SWITCH, SCHED_PICK, IRQ_ENTER, IRQ_EXIT = 6, 7, 8, 9
EXC_ENTER, PAGE_FAULT, EXC_EXIT, MARK = 10, 11, 12, 13
VEC_PF = 14

EXC_NAMES = ["#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP",
             "#SS", "#GP", "#PF", "RSV", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"]

_EVENT = struct.Struct("<QHBBIQQ")
_HEADER = struct.Struct("<QIIII QQ II QQQ II Q 24s 16x")
_CPU = struct.Struct("<QQQQ")
assert _EVENT.size == EVENT_BYTES and _HEADER.size == FIXED_HEADER


class TraceError(Exception):
    """The input is not a usable trace; the message says why."""


@dataclass(frozen=True)
class Event:
    tsc: int
    cpu: int
    type: int
    flags: int
    thread: int
    arg0: int
    arg1: int

    @property
    def name(self) -> str:
        return TYPES.get(self.type, f"type_{self.type}")


@dataclass
class CpuInfo:
    head: int
    lost: int
    ring_offset: int


@dataclass
class Trace:
    source: str  # "shm" or "serial"
    version: int
    ncpus: int
    ring_events: int
    tsc_hz: int
    state: int
    type_mask: int
    start_tsc: int
    finish_tsc: int
    region_bytes: int
    flags: int
    lost_no_ring: int
    tsc_source: str
    cpus: list[CpuInfo]
    events: dict[int, list[Event]] = field(default_factory=dict)  # per CPU, oldest first
    warnings: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.state == STATE_FINISHED

    def all_events(self) -> list[Event]:
        return [e for c in sorted(self.events) for e in self.events[c]]


def parse_header(data: bytes, source: str) -> Trace:
    if len(data) < FIXED_HEADER:
        raise TraceError(f"truncated: {len(data)} bytes, the trace header alone needs {FIXED_HEADER}")
    (magic, version, header_bytes, event_bytes, ncpus, ring_events, tsc_hz, state, type_mask,
     start_tsc, finish_tsc, region_bytes, flags, _r0, lost_no_ring, tsc_source) = _HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        if not any(data[:FIXED_HEADER]):
            raise TraceError("no trace header (the region is all zeros): the kernel never started "
                             "tracing; boot it with trace=on")
        raise TraceError(f"bad magic {magic:#018x} (expected {MAGIC:#018x}, 'TACHYTRC'): not a Tachyon trace")
    if version != VERSION:
        raise TraceError(f"unsupported trace version {version} (this exporter reads version {VERSION})")
    if event_bytes != EVENT_BYTES:
        raise TraceError(f"event size {event_bytes} in the header, version {VERSION} has {EVENT_BYTES}")
    if not 1 <= ncpus <= 256:
        raise TraceError(f"implausible CPU count {ncpus} in the header")
    if header_bytes < FIXED_HEADER + CPU_INFO * ncpus or header_bytes > 4096:
        raise TraceError(f"header size {header_bytes} does not hold {ncpus} CPU entries")
    if ring_events < 1 or ring_events & (ring_events - 1):
        raise TraceError(f"ring size {ring_events} is not a power of two")
    if tsc_hz <= 0:
        raise TraceError("the header has no TSC frequency")
    if state not in (STATE_RUNNING, STATE_FINISHED):
        raise TraceError(f"unknown trace state {state}")
    if len(data) < header_bytes:
        raise TraceError(f"truncated: {len(data)} bytes, the header says it has {header_bytes}")
    cpus = []
    for i in range(ncpus):
        head, lost, off, _ = _CPU.unpack_from(data, FIXED_HEADER + CPU_INFO * i)
        if state == STATE_FINISHED and lost != max(0, head - ring_events):
            raise TraceError(f"CPU {i}: {lost} lost events do not match head {head} and ring {ring_events}")
        cpus.append(CpuInfo(head, lost, off))
    return Trace(source, version, ncpus, ring_events, tsc_hz, state, type_mask, start_tsc, finish_tsc,
                 region_bytes, flags, lost_no_ring, tsc_source.rstrip(b"\0").decode("ascii", "replace"), cpus)


def load_shm(data: bytes) -> Trace:
    """The ivshmem region: header, then the rings where the kernel wrote them."""
    t = parse_header(data, "shm")
    ring_bytes = t.ring_events * EVENT_BYTES
    for i, c in enumerate(t.cpus):
        if c.ring_offset < FIXED_HEADER or c.ring_offset + ring_bytes > len(data):
            raise TraceError(f"truncated: the ring of CPU {i} spans bytes {c.ring_offset}..{c.ring_offset + ring_bytes}, "
                             f"the file has {len(data)}")
    if not t.finished:
        t.warnings.append("the kernel did not finish the trace (it died, or trace_finish never ran): events "
                          "recovered by scanning every slot, ordered by TSC; lost counts unknown")
    mismatched = 0
    for i, c in enumerate(t.cpus):
        ring = [Event(*f) for f in _EVENT.iter_unpack(data[c.ring_offset:c.ring_offset + ring_bytes])]
        if t.finished:
            evs = [ring[seq % t.ring_events] for seq in range(c.lost, c.head)]
            bad = sum(1 for e in evs if e.type == 0)
            if bad:
                t.warnings.append(f"CPU {i}: {bad} slots inside the recorded range are empty")
                evs = [e for e in evs if e.type]
        else:
            evs = sorted((e for e in ring if e.type), key=lambda e: e.tsc)
        mismatched += sum(1 for e in evs if e.cpu != i)
        if evs:
            t.events[i] = evs
    if mismatched:
        t.warnings.append(f"{mismatched} events carry a CPU number other than their ring's")
    return t


_LINE = re.compile(r"TRACE-([HE]) ([0-9a-fA-F]{16}) ([0-9a-fA-F]{16}) ([0-9a-fA-F]{16}) ([0-9a-fA-F]{16})\s*$")
_END = re.compile(r"TRACE-END events=(\d+) sum=([0-9a-fA-F]{16})\s*$")


def load_serial(text: str) -> Trace:
    """The fallback dump: header and events as lines of four little-endian u64 words in hex."""
    blocks = text.split("TRACE-BEGIN")
    if len(blocks) < 2:
        raise TraceError("no TRACE-BEGIN line: this log holds no trace dump (was the kernel booted with "
                         "trace=..., and did trace_finish run?)")
    block = blocks[-1]
    header, events, total, end = bytearray(), [], 0, None
    for line in block.splitlines()[1:]:
        if m := _LINE.search(line):
            words = [int(w, 16) for w in m.groups()[1:]]
            total = (total + sum(words)) & (2**64 - 1)
            raw = struct.pack("<4Q", *words)
            if m.group(1) == "H":
                if events:
                    raise TraceError("corrupt dump: a TRACE-H line after the first event")
                header += raw
            else:
                events.append(Event(*_EVENT.unpack(raw)))
        elif m := _END.search(line):
            end = (int(m.group(1)), int(m.group(2), 16))
            break
        elif "TRACE-" in line:
            raise TraceError(f"corrupt dump line: {line.strip()[:80]!r}")
    if end is None:
        raise TraceError("truncated serial log: TRACE-BEGIN without TRACE-END")
    if end[0] != len(events):
        raise TraceError(f"the dump says {end[0]} events, the log has {len(events)} (lines lost)")
    if end[1] != total:
        raise TraceError(f"checksum mismatch: the dump says {end[1]:016x}, the lines sum to {total:016x} "
                         "(garbled line)")
    t = parse_header(bytes(header), "serial")
    if len(blocks) > 2:
        t.warnings.append(f"{len(blocks) - 1} trace dumps in the log; exported the last")
    for e in events:
        if e.cpu >= t.ncpus:
            raise TraceError(f"event on CPU {e.cpu}, but the header has {t.ncpus} CPUs")
        t.events.setdefault(e.cpu, []).append(e)
    for i, c in enumerate(t.cpus):
        want = min(c.head, t.ring_events) if t.finished else None
        if want is not None and want != len(t.events.get(i, [])):
            raise TraceError(f"CPU {i}: the header says {want} events, the dump has {len(t.events.get(i, []))}")
    return t


def load(path: str, fmt: str = "auto") -> Trace:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise TraceError(f"cannot read {path}: {e.strerror}") from None
    if fmt == "auto":
        if data[:8] == struct.pack("<Q", MAGIC) or (len(data) >= 4096 and not any(data[:FIXED_HEADER])):
            fmt = "shm"
        elif b"TRACE-BEGIN" in data:
            fmt = "serial"
        elif b"\0" in data[:4096] or not data:
            fmt = "shm"  # binary: let the header check say what is wrong with it
        else:
            raise TraceError(f"{path}: neither a trace region (magic 'TACHYTRC') nor a serial log with TRACE-BEGIN")
    if fmt == "shm":
        return load_shm(data)
    return load_serial(data.decode("utf-8", errors="replace"))


# ---------------------------------------------------------------------------------------------
# Spans: entry/exit pairs.


def exc_name(vector: int) -> str:
    return EXC_NAMES[vector] if vector < len(EXC_NAMES) else f"vector {vector}"


def span_key(e: Event) -> Optional[tuple[str, str, bool]]:
    """(kind, label, is_entry) for events that open or close a span, else None."""
    if e.type == IRQ_ENTER or e.type == IRQ_EXIT:
        return "irq", f"irq {e.arg0:#x}", e.type == IRQ_ENTER
    if e.type == EXC_ENTER:
        return "exc", f"exc {exc_name(e.arg0)}", True
    if e.type == PAGE_FAULT:
        return "exc", f"exc {exc_name(VEC_PF)}", True
    if e.type == EXC_EXIT:
        return "exc", f"exc {exc_name(e.arg0)}", False
    if e.type == SYSCALL_ENTER or e.type == SYSCALL_EXIT:
        return "syscall", f"syscall {e.arg0}", e.type == SYSCALL_ENTER
    return None


@dataclass
class Span:
    kind: str
    label: str
    begin: Event
    end: Event

    @property
    def ticks(self) -> int:
        return self.end.tsc - self.begin.tsc


def pair_spans(t: Trace) -> tuple[list[Span], list[Event]]:
    """Matches entries with exits per CPU and thread (they nest: an IRQ inside a system call, an
    exception inside an IRQ). Returns the spans and the events that found no partner: an exit
    whose entry was overwritten at the start of the ring, an entry whose exit never came."""
    spans, orphans = [], []
    for cpu in sorted(t.events):
        stacks: dict[int, list[tuple[str, str, Event]]] = defaultdict(list)
        for e in t.events[cpu]:
            k = span_key(e)
            if k is None:
                continue
            kind, label, entry = k
            stack = stacks[e.thread]
            if entry:
                stack.append((kind, label, e))
                continue
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == kind and stack[i][1] == label:
                    orphans.extend(x[2] for x in stack[i + 1:])  # entries that never exited
                    spans.append(Span(kind, label, stack[i][2], e))
                    del stack[i:]
                    break
            else:
                orphans.append(e)
        for stack in stacks.values():
            orphans.extend(x[2] for x in stack)
    return spans, orphans


# ---------------------------------------------------------------------------------------------
# Chrome trace-event JSON.


def _args(e: Event) -> dict:
    if e.type in (IPC_SEND, IPC_RECV, IPC_REPLY):
        return {"endpoint": e.arg0, "path": "fast" if e.arg1 & 1 else "slow", "tag": e.arg1 >> 8}
    if e.type == CTX_SWITCH:
        return {"from": e.arg0, "to": e.arg1}
    if e.type == SCHED_PICK:
        return {"thread": e.arg0, "info": e.arg1}
    if e.type == PAGE_FAULT:
        return {"addr": f"{e.arg0:#x}", "error": f"{e.arg1:#x}"}
    return {"arg0": f"{e.arg0:#x}", "arg1": f"{e.arg1:#x}"}


def chrome_json(t: Trace) -> dict:
    evs = t.all_events()
    base = t.start_tsc if t.start_tsc and evs and t.start_tsc <= min(e.tsc for e in evs) else \
        (min(e.tsc for e in evs) if evs else 0)

    def us(tsc: int) -> float:
        return round((tsc - base) * 1e6 / t.tsc_hz, 3)

    out = []
    for cpu in sorted(t.events):
        out.append({"ph": "M", "name": "process_name", "pid": cpu, "tid": 0, "args": {"name": f"CPU {cpu}"}})
        out.append({"ph": "M", "name": "process_sort_index", "pid": cpu, "tid": 0, "args": {"sort_index": cpu}})
        for tid in sorted({e.thread for e in t.events[cpu]}):
            name = "kernel (no thread)" if tid == 0 else f"thread {tid}"
            out.append({"ph": "M", "name": "thread_name", "pid": cpu, "tid": tid, "args": {"name": name}})
    spans, orphans = pair_spans(t)
    for s in spans:
        out.append({"name": s.label, "cat": s.kind, "ph": "X", "ts": us(s.begin.tsc),
                    "dur": round(s.ticks * 1e6 / t.tsc_hz, 3), "pid": s.begin.cpu, "tid": s.begin.thread,
                    "args": {**_args(s.begin), "ticks": s.ticks}})
    orphan_ids = {id(e) for e in orphans}
    for e in evs:
        if span_key(e) is not None and id(e) not in orphan_ids:
            continue
        name = e.name + (" (unpaired)" if id(e) in orphan_ids else "")
        out.append({"name": name, "cat": e.name.split("_")[0], "ph": "i", "s": "t", "ts": us(e.tsc),
                    "pid": e.cpu, "tid": e.thread, "args": _args(e)})
    return {
        "traceEvents": out,
        "displayTimeUnit": "ns",
        "otherData": {
            "format": f"tachyon trace v{t.version} ({t.source})",
            "tsc_hz": t.tsc_hz,
            "tsc_source": t.tsc_source,
            "ring_events": t.ring_events,
            "finished": t.finished,
            "events": len(evs),
            "lost_overwritten": sum(c.lost for c in t.cpus),
            "lost_no_ring": t.lost_no_ring,
            "unpaired": len(orphans),
        },
    }


# ---------------------------------------------------------------------------------------------
# Latency statistics and histograms.


def nearest_rank(sorted_vals: list[int], p: float) -> int:
    return sorted_vals[max(0, math.ceil(p / 100 * len(sorted_vals)) - 1)]


def latency_stats(t: Trace) -> dict:
    spans, orphans = pair_spans(t)
    groups: dict[str, list[int]] = defaultdict(list)
    for s in spans:
        groups[s.label].append(s.ticks)
    stats = {}
    for label in sorted(groups):
        v = sorted(groups[label])
        buckets = Counter(x.bit_length() for x in v)  # bucket b holds [2^(b-1), 2^b)
        stats[label] = {
            "count": len(v),
            "min": v[0],
            "median": nearest_rank(v, 50),
            "p99": nearest_rank(v, 99),
            "max": v[-1],
            "mean": sum(v) / len(v),
            "unit": "tsc_ticks",
            "us": {k: nearest_rank(v, p) * 1e6 / t.tsc_hz
                   for k, p in (("min", 0), ("median", 50), ("p99", 99), ("max", 100))},
            "log2_histogram": [{"from": (1 << (b - 1)) if b else 0, "to": 1 << b, "count": buckets[b]}
                               for b in range(min(buckets), max(buckets) + 1)],
        }
    counts = Counter(e.name for e in t.all_events())
    return {"tsc_hz": t.tsc_hz, "spans": stats, "event_counts": dict(sorted(counts.items())),
            "unpaired": len(orphans)}


def latency_text(t: Trace, stats: dict) -> str:
    lines = [f"Tachyon trace ({t.source}, version {t.version}): {len(t.all_events())} events on "
             f"{len(t.events)} CPU(s), TSC {t.tsc_hz / 1e6:.3f} MHz ({t.tsc_source or 'source unknown'})",
             f"lost: {sum(c.lost for c in t.cpus)} overwritten, {t.lost_no_ring} from CPUs without a ring; "
             f"{stats['unpaired']} unpaired entry/exit events" + ("" if t.finished else "; trace NOT finished"),
             ""]
    if stats["spans"]:
        lines.append(f"{'span':<20} {'count':>8} {'min':>10} {'median':>10} {'p99':>10} {'max':>10}  "
                     "(TSC ticks; microseconds below)")
        for label, s in stats["spans"].items():
            lines.append(f"{label:<20} {s['count']:>8} {s['min']:>10} {s['median']:>10} {s['p99']:>10} {s['max']:>10}")
            u = s["us"]
            lines.append(f"{'':<20} {'':>8} {u['min']:>10.3f} {u['median']:>10.3f} {u['p99']:>10.3f} {u['max']:>10.3f}")
        for label, s in stats["spans"].items():
            lines += ["", f"{label}: histogram of TSC ticks (log2 buckets)"]
            peak = max(b["count"] for b in s["log2_histogram"])
            for b in s["log2_histogram"]:
                bar = "#" * (math.ceil(40 * b["count"] / peak) if b["count"] else 0)
                lines.append(f"  [{b['from']:>10}, {b['to']:>10})  {b['count']:>8}  {bar}")
    else:
        lines.append("no entry/exit spans in this trace")
    lines += ["", "events per type:"]
    lines += [f"  {name:<16} {n:>10}" for name, n in stats["event_counts"].items()]
    return "\n".join(lines) + "\n"


def latency_png(t: Trace, path: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    spans, _ = pair_spans(t)
    groups: dict[str, list[float]] = defaultdict(list)
    for s in spans:
        groups[s.label].append(s.ticks * 1e6 / t.tsc_hz)
    if not groups:
        return False
    fig, axes = plt.subplots(len(groups), 1, figsize=(8, 2.6 * len(groups)), squeeze=False)
    for ax, label in zip(axes[:, 0], sorted(groups)):
        v = groups[label]
        # A little margin either side, so that a single value still gets a visible bar.
        lo, hi = max(min(v), 1e-3) / 1.2, max(max(v), 1e-3) * 1.2
        bins = [lo * (hi / lo) ** (i / 40) for i in range(41)]
        ax.hist(v, bins=bins)
        ax.set_xscale("log")
        ax.set_title(f"{label}: {len(v)} span{'' if len(v) == 1 else 's'}")
        ax.set_xlabel("microseconds")
        ax.set_ylabel("count")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def export(t: Trace, out_dir: str, png: bool = True) -> list[str]:
    os.makedirs(out_dir, exist_ok=True)
    stats = latency_stats(t)
    written = []
    for name, content in (("trace.json", json.dumps(chrome_json(t), separators=(",", ":"))),
                          ("latency.json", json.dumps(stats, indent=1)),
                          ("latency.txt", latency_text(t, stats))):
        path = os.path.join(out_dir, name)
        with open(path, "w") as f:
            f.write(content)
        written.append(path)
    if png and latency_png(t, os.path.join(out_dir, "latency.png")):
        written.append(os.path.join(out_dir, "latency.png"))
    return written


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Export a Tachyon trace to Chrome/Perfetto JSON and latency histograms.")
    ap.add_argument("input", help="ivshmem backing file (qemu.sh --trace FILE) or serial log with a TRACE dump")
    ap.add_argument("--out", required=True, metavar="DIR", help="output directory (created)")
    ap.add_argument("--format", choices=("auto", "shm", "serial"), default="auto")
    ap.add_argument("--no-png", action="store_true", help="skip latency.png even when matplotlib is present")
    a = ap.parse_args(argv)
    try:
        t = load(a.input, a.format)
    except TraceError as e:
        print(f"trace_export: error: {a.input}: {e}", file=sys.stderr)
        return 1
    for w in t.warnings:
        print(f"trace_export: warning: {w}", file=sys.stderr)
    written = export(t, a.out, png=not a.no_png)
    lost = sum(c.lost for c in t.cpus)
    print(f"trace_export: {len(t.all_events())} events on {len(t.events)} CPU(s) ({lost} overwritten, "
          f"{t.lost_no_ring} without a ring) -> {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Every row of TARGETS.md as data, with bounds a script can check.

scripts/bench_report.py walks ROWS in order and gives each one a verdict; tests check that ROWS
holds exactly the IDs of TARGETS.md. When TARGETS.md changes, change this file with it.

How a benchmark is tied to a row, strongest first:
  1. the kernel tags a benchmark entry with "target": "K-5" (a comma list is allowed);
  2. otherwise the row's `benchmarks` globs, tried in order against the benchmark name without
     the variant prefix ("frame_alloc/order:0"); the first glob that matches anything wins.
The globs are guesses at names the kernel will use; the tag is the contract, so prefer tagging.

Units. Bounds are stored in base units: "ns" for times, "bytes", "msgs/s", "bytes/s", "count".
TARGETS.md's "KB"/"MB" are read as SI (1000-based): the stricter reading, which TARGETS.md says
is the one to aim for. Measured ticks become ns through the run's ticks per ns: exactly 1 under
icount (the guest TSC runs at 1 GHz, one instruction per tick), ticks_hz / 1e9 in cycles mode.

Which statistic meets the bound: the median unless the row says otherwise (IPC-5 bounds the p99
and the mean). An "approx" bound ("~ 50 ns") is met up to APPROX_TOLERANCE above the value;
being faster is always fine.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Optional

APPROX_TOLERANCE = 0.25

BOTH_MODES = ("icount", "cycles")


@dataclass(frozen=True)
class Bound:
    kind: str  # "max" (<), "min" (>=), "approx" (~), "reported", "behaviour"
    value: Optional[float] = None
    unit: str = ""  # "ns", "bytes", "msgs/s", "bytes/s", "count"
    text: str = ""  # as TARGETS.md writes it
    source: str = ""
    stat: str = "median"  # median, mean, p99, ... of the per-operation samples


@dataclass(frozen=True)
class Target:
    id: str
    group: str  # "IPC", "Kernel primitives", "System", "Behaviour"
    what: str
    target: str  # the target column, verbatim
    source: str
    bounds: tuple[Bound, ...]
    # "latency": ticks per operation; "rate": operations per second from the median latency
    # (or an items_per_second counter); "bandwidth": bytes per second (size:N parameter or a
    # bytes_per_second counter); "counter": a named counter's value; "kernel_size": text+data
    # of build/kernel.elf; "boot_ready": the boot log's "ready in N us"; "reported": the
    # figures exist; "behaviour": a test, not a benchmark.
    metric: str = "latency"
    benchmarks: tuple[str, ...] = ()
    missing: str = ""  # what must exist before it can be measured
    modes: tuple[str, ...] = BOTH_MODES  # timing modes that can measure it
    counters: tuple[str, ...] = ()  # counter globs: for "counter" the value, for "reported" required
    # Boot tests that check the row (for behaviour rows, and rows no benchmark measures yet):
    # the report says "tested" and names them; make test is where they pass or fail.
    tested_by: str = ""
    note: str = ""


def _max(v: float, unit: str, text: str, source: str = "", stat: str = "median") -> Bound:
    return Bound("max", v, unit, text, source, stat)


def _approx(v: float, unit: str, text: str, source: str = "") -> Bound:
    return Bound("approx", v, unit, text, source)


def _min(v: float, unit: str, text: str, source: str = "") -> Bound:
    return Bound("min", v, unit, text, source)


US, MS = 1e3, 1e6
BEHAVIOUR = (Bound("behaviour", text="behaviour"),)

ROWS: tuple[Target, ...] = (
    # --- IPC -------------------------------------------------------------------------------
    Target("IPC-1", "IPC", "small message (<= 64 bytes) one-way on the fast path", "< 500 ns",
           "Splax migration guide", (_max(500, "ns", "< 500 ns"),),
           benchmarks=("ipc/call/inter_as/oneway/fast", "ipc*fast*oneway*", "ipc*oneway*fast*",
                       "ipc*oneway*size:64", "ipc*oneway*"),
           missing="needs IPC endpoints and the register fast path",
           note="the call leg of a fast-path round trip between two address spaces, counted as "
                "sel4bench counts it (client clock read before the trap to the server's after its "
                "return, minus one clock read); half the round trip is in the IPC section"),
    Target("IPC-2", "IPC", "service call round trip (client -> service -> reply)", "< 2 us",
           "Splax migration guide", (_max(2 * US, "ns", "< 2 us"),),
           benchmarks=("service*call*", "svc*call*", "ipc/call_reply/inter_as/fast"),
           missing="needs user-space services, the name service and the transport interface",
           note="until services exist: the kernel's call + reply round trip between two processes "
                "on the fast path (no service layer, no name lookup)"),
    Target("IPC-3", "IPC", "small message IPC", "< 1 us", "Phase 1 checklist, Cule architecture",
           (_max(1 * US, "ns", "< 1 us"),),
           benchmarks=("ipc/call_reply/inter_as/fast", "ipc*call*size:64", "ipc*roundtrip*",
                       "ipc*call*"),
           missing="needs IPC endpoints (call/reply)",
           note="a call + reply round trip of a 64-byte register message (tag + 7 words) between "
                "two address spaces, fast path, user stubs and loop included"),
    Target("IPC-4", "IPC", "large message IPC (4 KiB)", "< 5 us", "Phase 1 checklist",
           (_max(5 * US, "ns", "< 5 us"),),
           benchmarks=("xfer/*/size:4096", "ipc*size:4096*"),
           missing="needs IPC with 4 KiB messages (shared memory or page grants)",
           note="one 4 KiB message from sender to receiver, the receiver reading it: by copy "
                "(xfer/copy), through a shared pool (xfer/pool) and as a page grant to another "
                "process (xfer/grant); the section Shared-memory IPC says what each includes"),
    Target("IPC-5", "IPC", "4 KiB message latency", "< 1 ms (mean < 0.5 ms)", "MOHHOS US-001",
           (_max(1 * MS, "ns", "< 1 ms", stat="p99"), _max(0.5 * MS, "ns", "mean < 0.5 ms", stat="mean")),
           benchmarks=("xfer/*/size:4096", "ipc*size:4096*"),
           missing="needs IPC with 4 KiB messages", note="p99 held to 1 ms, mean to 0.5 ms"),
    Target("IPC-6", "IPC", "IPC throughput", "> 100,000 messages/s", "Phase 1 checklist",
           (_min(100_000, "msgs/s", "> 100,000 messages/s"),), metric="rate",
           benchmarks=("ring/notify/batch:*", "ipc*throughput*", "ipc*tput*"),
           missing="needs an IPC throughput benchmark (rings or endpoints)",
           note="messages per second of one CPU streaming 64-byte messages through an SPSC ring "
                "to a consumer thread, wake-ups included, from the median per message (icount: "
                "instructions per message on the 1 GHz reference machine)"),
    Target("IPC-7", "IPC", "large-message throughput", "> 1 GB/s", "MOHHOS US-001",
           (_min(1e9, "bytes/s", "> 1 GB/s"),), metric="bandwidth",
           benchmarks=("xfer/*/size:1048576", "ipc*throughput*size:*", "ipc*bandwidth*"),
           missing="needs a large-message throughput benchmark (zero-copy or rings)",
           note="1 MiB messages one after the other, the receiver reading each, by copy, shared "
                "pool and page grant: bytes over the median per message (icount counts a copy's "
                "rep movsb one instruction per byte)"),
    Target("IPC-8", "IPC", "shared-memory IPC (zero-copy path)", "< 100 ns", "Cule architecture",
           (_max(100, "ns", "< 100 ns"),),
           benchmarks=("ring/poll/batch:1", "ipc*zcopy*", "zcopy*", "ipc*shm*"),
           missing="needs shared-memory objects and the zero-copy transport",
           note="one 64-byte message through an SPSC ring in shared memory, unbatched, with no "
                "system call (send + receive, the consumer polling)"),
    Target("IPC-9", "IPC", "asynchronous notification (signal) delivery", "~ 1 us", "Cule architecture",
           (_approx(1 * US, "ns", "~ 1 us"),),
           benchmarks=("notif*", "ipc*notif*", "signal*"),
           missing="needs notification objects",
           note="per delivery: half a signal + wait round trip between two threads of one process "
                "(signal, switch to the waiter, its wait returning), as yield/same_as counts a switch"),
    Target("IPC-10", "IPC", "latency between user-space services", "< 50 us",
           "user-space services architecture", (_max(50 * US, "ns", "< 50 us"),),
           benchmarks=("transport/fastpath/call_reply/size:56", "service*latency*", "svc*latency*"),
           missing="needs user-space services exchanging messages",
           note="a request/response round trip between ubench and the echo service process over "
                "the default transport (TRANSPORT_DEFAULT in kernel/abi/transport.h: fastpath), "
                "56-byte request and response (one register message each way), through the "
                "in-place API, the echo's per-byte answer included; the other transports and "
                "sizes are in the section Shared-memory IPC"),
    Target("IPC-11", "IPC", "IPC latency distribution and fast/slow path ratio are reported", "reported",
           "Phase 1 checklist, Splax", (Bound("reported", text="reported"),), metric="reported",
           benchmarks=("ipc*",), counters=("*fast*", "*slow*"),
           missing="needs IPC benchmarks with raw samples and fast/slow path entry counters",
           note="counters: the kernel's IPC_CTL_STATS differences over each measured loop "
                "(ipc_fast_calls, ipc_slow_calls, ...); the fast/slow latency ratio of the same boot "
                "is in the IPC section"),
    # --- Kernel primitives -----------------------------------------------------------------
    Target("K-1", "Kernel primitives", "null system call round trip", "~ 50 ns", "Cule architecture",
           (_approx(50, "ns", "~ 50 ns"),),
           benchmarks=("syscall/null", "syscall*null*", "null*syscall*"),
           missing="needs ring 3 and the syscall entry path (ubench: `make user`)",
           note="end to end from ring 3 (user stub and timed loop included); the kernel path alone "
                "(minus syscall/nop_baseline, as sel4bench counts) is in the peer table"),
    Target("K-2", "Kernel primitives", "context switch", "~ 200 ns (Cule); < 10 us (Phase 1)",
           "Cule architecture, Phase 1 checklist",
           (_approx(200, "ns", "~ 200 ns", "Cule"), _max(10 * US, "ns", "< 10 us", "Phase 1")),
           benchmarks=("context_switch*", "ctx_switch*", "ctxsw*"),
           missing="needs threads and a scheduler"),
    Target("K-3", "Kernel primitives", "scheduling decision", "< 1 us", "Phase 1 checklist",
           (_max(1 * US, "ns", "< 1 us"),),
           benchmarks=("sched*pick*", "sched*decision*"),
           missing="needs the scheduler interface and a policy"),
    Target("K-4", "Kernel primitives", "capability check", "O(1), < 500 ns",
           "Phase 1 checklist, Cule architecture", (_max(500, "ns", "< 500 ns"),),
           benchmarks=("cap/check", "cap*lookup*", "cap*check*", "capability*"),
           missing="needs capability tables",
           note="cap/check: SYS_CAP_INFO round trip minus SYS_NULL round trip, timed back to back in "
                "each iteration (the lookup plus SYS_CAP_INFO's own work: an upper bound); O(1): "
                "with a table-size parameter, the medians across sizes should be flat"),
    Target("K-5", "Kernel primitives", "physical frame allocation", "< 1 us", "Phase 1 checklist",
           (_max(1 * US, "ns", "< 1 us"),),
           benchmarks=("frame_alloc*order:0*", "frame_alloc*", "frames*alloc*"),
           missing="needs a frame allocation benchmark"),
    Target("K-6", "Kernel primitives", "kernel heap allocation", "< 500 ns", "Phase 1 checklist",
           (_max(500, "ns", "< 500 ns"),),
           benchmarks=("slab_alloc*", "kmalloc*", "kmem*alloc*", "heap*alloc*", "slab*"),
           missing="needs a slab / kernel heap benchmark"),
    Target("K-7", "Kernel primitives", "page mapping", "< 2 us", "Phase 1 checklist",
           (_max(2 * US, "ns", "< 2 us"),),
           benchmarks=("page_map*", "map_page*", "paging*map*", "vm*map*"),
           missing="needs a page-mapping benchmark"),
    Target("K-8", "Kernel primitives", "TLB shootdown", "< 5 us per CPU", "Phase 1 checklist",
           (_max(5 * US, "ns", "< 5 us per CPU"),),
           benchmarks=("tlb*shootdown*", "shootdown*"),
           missing="needs SMP TLB shootdown; measurable in cycles mode only (icount boots use one vCPU)",
           modes=("cycles",), note="per remote CPU: the benchmark should report time per CPU"),
    Target("K-9", "Kernel primitives", "process creation", "< 100 us (Phase 1); < 10 ms (MOHHOS)",
           "Phase 1 checklist, MOHHOS US-001",
           (_max(100 * US, "ns", "< 100 us", "Phase 1"), _max(10 * MS, "ns", "< 10 ms", "MOHHOS")),
           benchmarks=("process/spawn*", "process*create*", "proc*create*", "spawn*"),
           missing="needs processes (address space + thread + capability table) and boot modules",
           note="process/spawn: the SYS_SPAWN call alone; process/spawn_wait: spawn, run to exit, "
                "wait (the whole lifetime of a minimal program)"),
    Target("K-10", "Kernel primitives", "small user-space memory allocation", "< 5 us",
           "user-space services architecture", (_max(5 * US, "ns", "< 5 us"),),
           benchmarks=("user*malloc*", "libsys*malloc*", "umalloc*"),
           missing="needs ring 3, libsys and a user-space allocator"),
    # --- System ----------------------------------------------------------------------------
    Target("S-1", "System", "kernel image size (text + data)", "< 50 KB", "Splax migration guide",
           (_max(50_000, "bytes", "< 50 KB"),), metric="kernel_size",
           missing="needs build/kernel.elf (run `make`) recorded in the run's context",
           note="`size build/kernel.elf`: text (code and read-only data) + data; KB read as 1000 bytes"),
    Target("S-2", "System", "boot to all essential services ready", "< 500 ms (Cule); < 3 s (MOHHOS)",
           "Cule architecture, MOHHOS US-001",
           (_max(500 * MS, "ns", "< 500 ms", "Cule"), _max(3000 * MS, "ns", "< 3 s", "MOHHOS")),
           metric="boot_ready",
           missing="needs the boot log's `tachyon: ready in N us` line",
           note="partial: kernel ready only (`tachyon: ready in N us`); services do not exist yet"),
    Target("S-3", "System", "essential service start-up", "< 100 ms", "user-space services architecture",
           (_max(100 * MS, "ns", "< 100 ms"),), benchmarks=("service*start*", "svc*start*"),
           missing="needs init and the essential services"),
    Target("S-4", "System", "simultaneous processes", ">= 100", "MOHHOS US-001",
           (_min(100, "count", ">= 100"),), metric="counter",
           benchmarks=("process*max*", "simultaneous*process*", "process*count*"),
           counters=("processes", "max_processes", "count"),
           missing="needs processes and a benchmark that reports how many ran at once",
           tested_by="process.over_100_processes_at_once (spawner: 120 children alive at once, all "
                     "reaped, every frame back) in every test=all boot case"),
    Target("S-5", "System", "kernel memory footprint", "< 64 MB", "MOHHOS US-001",
           (_max(64e6, "bytes", "< 64 MB"),), metric="counter",
           benchmarks=("kernel*footprint*", "kmem*footprint*"),
           counters=("bytes", "kernel_bytes", "footprint_bytes"),
           missing="needs kernel memory accounting reported as a benchmark counter"),
    Target("S-6", "System", "device I/O through a user-space driver", "< 1 ms",
           "user-space services architecture", (_max(1 * MS, "ns", "< 1 ms"),),
           benchmarks=("device*io*", "serial*io*", "driver*"),
           missing="needs the user-space device service with IRQ forwarding"),
    # --- Behaviour -------------------------------------------------------------------------
    Target("B-1", "Behaviour", "each service in its own address space; a crash of one affects no other",
           "behaviour", "MOHHOS US-001, Cule", BEHAVIOUR, metric="behaviour",
           missing="a boot test (make test) once services and the supervisor exist"),
    Target("B-2", "Behaviour",
           "capability forgery, unauthorized access and privilege escalation attempts all fail",
           "behaviour", "Phase 1 checklist", BEHAVIOUR, metric="behaviour",
           missing="negative boot tests (make test) once capabilities and ring 3 exist"),
    Target("B-3", "Behaviour", "fork-bomb resistance (resource quotas)", "behaviour", "Phase 1 checklist",
           BEHAVIOUR, metric="behaviour", missing="a boot test (make test) once quotas exist",
           tested_by="process.fork_bomb_is_contained_by_quotas (forkbomb ends 0 after ERR_NOMEM, "
                     "every frame back, the machine still runs programs)"),
    Target("B-4", "Behaviour",
           "supervisor restart policies: Never / OnFailure / Always, max restarts in a window, restart "
           "delay (defaults 3, 60 s, 1 s)", "behaviour", "Splax migration guide", BEHAVIOUR,
           metric="behaviour", missing="a boot test (make test) once the supervisor exists"),
    Target("B-5", "Behaviour", "services start in dependency order (groups)", "behaviour",
           "Splax migration guide", BEHAVIOUR, metric="behaviour",
           missing="a boot test (make test) once init and the service manifest exist"),
    Target("B-6", "Behaviour", "out-of-memory handled without a kernel crash", "behaviour",
           "Phase 1 checklist", BEHAVIOUR, metric="behaviour",
           missing="a memory-exhaustion boot test (make test)",
           tested_by="mm.frame_exhaustion_and_recovery, mm.out_of_memory_is_an_error, "
                     "process.fork_bomb_is_contained_by_quotas"),
    Target("B-7", "Behaviour",
           "scheduler: at least 3 priority levels, multi-core, load balancing, fair CPU distribution",
           "behaviour", "Phase 1 checklist", BEHAVIOUR, metric="behaviour",
           missing="scheduler boot tests (make test) once sched= policies exist",
           tested_by="boot cases all/all-prio on 1 and 2 CPUs (sched.*, including "
                     "sched.work_spreads_over_every_cpu), prio-wakeup-preempts-icount, "
                     "rr-wakeup-waits-icount; host tests test_sched_rr/prio (fairness, starvation)"),
)

IDS = tuple(t.id for t in ROWS)


def by_id(tid: str) -> Target:
    for t in ROWS:
        if t.id == tid:
            return t
    raise KeyError(tid)


@dataclass(frozen=True)
class Peer:
    """A row of TARGETS.md's peer table. Values are icount instruction counts."""

    what: str
    sel4: tuple[tuple[str, float], ...]  # (label, instructions); label "" when there is one
    linux: tuple[tuple[str, float], ...]
    benchmarks: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()  # rows whose benchmarks also count as ours
    # Globs of a benchmark whose median is subtracted from ours (sel4bench's overhead loop), so
    # that our figure counts what the peers count (scripts/bench_peers.py).
    baseline: tuple[str, ...] = ()


PEERS: tuple[Peer, ...] = (
    # The IPC rows name the fast-path benchmarks first: the globs after them also match the slow
    # and intra-AS variants, and pick() takes the first glob that matches anything.
    Peer("call, one way, client -> server, different address spaces", (("", 198),), (),
         ("ipc/call/inter_as/oneway/fast", "ipc*call*oneway*", "ipc*oneway*call*")),
    Peer("reply-and-wait, one way, server -> client, different address spaces", (("", 225),), (),
         ("ipc/reply_recv/inter_as/oneway/fast", "ipc*reply*recv*oneway*", "ipc*replywait*")),
    Peer("call + reply round trip, different address spaces", (("", 423),),
         (("futex", 10_114), ("pipe 1 B", 13_033), ("eventfd", 10_988)),
         ("ipc/call_reply/inter_as/fast", "ipc*roundtrip*", "ipc*rtt*"), baseline=("ipc/nop_baseline",)),
    Peer("call + reply round trip, same address space", (("", 421),), (),
         ("ipc/call_reply/intra_as/fast", "ipc*same*space*", "ipc*same_as*"), baseline=("ipc/nop_baseline",)),
    # One way with 10 words; our slow-path benchmarks are 7-word round trips, so none fits yet.
    Peer("slow path, 10-word message, one way (call / reply)", (("call", 839), ("reply", 805)), (),
         ("ipc*slow*oneway*",)),
    Peer("null system call", (("", 100),), (("", 342),), ("syscall/null", "syscall*null*"), ("K-1",),
         baseline=("syscall/nop_baseline",)),
    # Per switch between two threads of one address space (yield/cross_as: two processes).
    Peer("yield", (("", 293),), (("sched_yield switch", 2_126),), ("yield/same_as", "yield*", "sched*yield*")),
    Peer("4 KiB round trip", (), (("pipe", 29_447), ("UNIX socket", 44_815)), ("ipc*roundtrip*size:4096*",)),
)


def tagged(entry_target: Optional[str]) -> list[str]:
    """IDs named by a benchmark entry's "target" field ("K-5" or "IPC-1,IPC-3")."""
    if not entry_target:
        return []
    return [p.strip() for p in str(entry_target).replace(";", ",").split(",") if p.strip()]


def pick(target_id: str, patterns: tuple[str, ...], names: dict[str, Optional[str]]) -> list[str]:
    """Benchmark names (variant prefix stripped) that measure a row.

    names maps each benchmark name to its entry's "target" field. Tags win over globs.
    """
    if target_id:
        hit = [n for n, tag in names.items() if target_id in tagged(tag)]
        if hit:
            return hit
    for pat in patterns:
        hit = [n for n in names if fnmatch.fnmatchcase(n, pat)]
        if hit:
            return hit
    return []


def _fmt(v: float) -> str:
    if v >= 100 or v == int(v):
        return f"{v:,.0f}"
    return f"{v:.3g}"


def budget_note(b: Bound) -> str:
    """How an icount run reads a time bound: an instruction budget at 1 instruction per ns."""
    op = {"max": "<", "min": ">=", "approx": "~"}.get(b.kind, "")
    if b.unit == "ns":
        pre = "mean " if b.stat == "mean" else ("p99 " if b.stat == "p99" else "")
        return f"{pre}{op} {_fmt(b.value)} instructions"
    if b.unit == "msgs/s":
        return f"<= {_fmt(1e9 / b.value)} instructions per message"
    if b.unit == "bytes/s":
        return f">= {b.value / 1e9:.3g} bytes per instruction"
    return ""


def check(b: Bound, measured: float) -> bool:
    """Whether a measured value (in b.unit) meets the bound."""
    if b.kind == "max":
        return measured < b.value
    if b.kind == "min":
        return measured >= b.value
    if b.kind == "approx":
        return measured <= b.value * (1 + APPROX_TOLERANCE)
    raise ValueError(f"bound kind {b.kind!r} has no numeric check")


def fmt_value(v: float, unit: str) -> str:
    """A value in base units, in the unit people would write it in."""
    if unit == "ns":
        for div, u in ((1e9, "s"), (1e6, "ms"), (1e3, "us")):
            if v >= div:
                return f"{v / div:.3g} {u}"
        return f"{_fmt(v)} ns"
    if unit == "bytes":
        return f"{_fmt(v)} B" if v < 1e4 else f"{v / 1e3:.4g} KB"
    if unit == "bytes/s":
        return f"{v / 1e9:.3g} GB/s" if v >= 1e8 else f"{v / 1e6:.3g} MB/s"
    if unit == "msgs/s":
        return f"{_fmt(v)} msgs/s"
    return _fmt(v)

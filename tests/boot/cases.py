"""The boot test matrix, as data. scripts/run_tests.py boots each case through scripts/qemu.sh.

A case either expects a clean pass (every in-kernel TEST line then counts as one result), or
expects a specific, detected failure: those cases prove the harness catches what it must
(a fault, a bad option, a hang) and count as one result, PASS when the failure was detected as
expected and FAIL otherwise, including when the boot unexpectedly passed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from dataclasses import dataclass, field
from typing import Optional

# Generous because TCG on a loaded 2-core CI machine, two boots at a time, is slow; a hang is
# still caught, just later. The hang case uses its own short timeout.
DEFAULT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Expect:
    """What the harness must conclude. verdict "passed" means a plain clean boot."""

    verdict: str = "passed"
    # Only for expected failures: the exception mnemonic the verdict must name, and whether it
    # must also name the faulting address.
    exception: Optional[str] = None
    fault_addr: bool = False
    # The verdict's reason must start with this ("hang", "panic", ...).
    reason_prefix: Optional[str] = None
    # A regex that must match some line of the serial log.
    log_regex: Optional[str] = None

    def log_ok(self, log: str) -> tuple[bool, str]:
        """(ok, why) for log_regex alone; ok when there is none."""
        if self.log_regex and not re.search(self.log_regex, log, re.MULTILINE):
            return False, f"log has no line matching /{self.log_regex}/"
        return True, "log matches" if self.log_regex else "no log expectation"

    def check(self, result, log: str) -> tuple[bool, str]:
        """(ok, why) for a bootlog.BootResult against this expectation."""
        if self.verdict == "passed":
            if not result.passed:
                return False, result.reason
            return self.log_ok(log) if self.log_regex else (True, "passed")
        if result.passed:
            return False, "boot passed, but a failure was expected"
        if self.exception:
            exc = result.exception
            if exc is None:
                return False, f"no {self.exception} reported (verdict: {result.reason})"
            if exc.mnemonic != self.exception:
                return False, f"expected {self.exception}, got {exc.mnemonic} (verdict: {result.reason})"
            if self.exception not in result.reason:
                return False, f"verdict does not name {self.exception}: {result.reason}"
            if self.fault_addr:
                if not exc.addr:
                    return False, f"{self.exception} reported without a faulting address: {exc.line!r}"
                if f"addr={exc.addr}" not in result.reason:
                    return False, f"verdict does not name the address {exc.addr}: {result.reason}"
        if self.reason_prefix and not result.reason.startswith(self.reason_prefix):
            return False, f"expected a {self.reason_prefix} verdict, got: {result.reason}"
        ok, why = self.log_ok(log)
        if not ok:
            return False, f"{why} (verdict: {result.reason})"
        return True, f"detected: {result.reason}"


@dataclass(frozen=True)
class Case:
    name: str
    cmdline: str
    # Passed to scripts/qemu.sh on top of the caller's environment (SMP, MEM, MODE, ACCEL).
    env: dict = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S
    expect: Expect = Expect()
    # Extra scripts/qemu.sh arguments; "{logdir}" is replaced by the log directory.
    qemu_args: tuple = ()
    # A host command run after the boot passed ("{logdir}" and "{log}" filled in); it must exit
    # 0 for the case to pass, e.g. exporting and validating a trace the boot wrote.
    post: tuple = ()

    @property
    def expects_pass(self) -> bool:
        return self.expect.verdict == "passed"


BASE = {"SMP": "1", "MEM": "128M"}

# Every user program the build made (services/user.mk), passed as multiboot modules: the user.*
# self tests spawn them by name.
_BUILD = Path(os.environ.get("BUILD", "build"))
_USER_DIR = (_BUILD if _BUILD.is_absolute() else Path(__file__).resolve().parents[2] / _BUILD) / "user"
USER_MODULES: tuple = tuple(
    arg for f in sorted(_USER_DIR.glob("*")) if f.is_file() for arg in ("--module", str(f))
)

# The transport self tests every transport case runs: the echo workload's short runs through
# both APIs, the refused api= value, and 1,000,000 requests in place.
TRANSPORT_ECHO = ",".join("transport." + t for t in (
    "echo_every_byte_verified", "echo_unknown_api_refused", "echo_million_requests"))

CASES: list[Case] = [
    Case("all", "test=all", {**BASE}, qemu_args=USER_MODULES,
         expect=Expect(log_regex=r"^smp: 1 of 1 CPUs online \(MADT\)")),
    # In-guest, smp.every_listed_cpu_online compares ncpus with the MADT; the log line ties
    # that count to the -smp QEMU was given.
    Case("all-smp2", "test=all", {**BASE, "SMP": "2"}, qemu_args=USER_MODULES,
         expect=Expect(log_regex=r"^smp: 2 of 2 CPUs online \(MADT\)")),
    Case("smp1-of-2", "test=smp smp=1", {**BASE, "SMP": "2"},
         expect=Expect(log_regex=r"^smp: 1 of 2 CPUs online \(MADT, limit 1\)")),
    Case(
        "bad-smp-zero-detected",
        "test=smp smp=0",
        {**BASE},
        expect=Expect(verdict="failed", log_regex=r"^cmdline: error: option 'smp': 0 is out of range 1\.\.16"),
    ),
    Case(
        "bad-smp-range-detected",
        "test=smp smp=99",
        {**BASE, "SMP": "2"},
        expect=Expect(verdict="failed", log_regex=r"^cmdline: error: option 'smp': 99 is out of range 1\.\.16"),
    ),
    Case("all-prio", "test=all sched=prio", {**BASE}, qemu_args=USER_MODULES),
    Case("all-prio-smp2", "test=all sched=prio", {**BASE, "SMP": "2"}, qemu_args=USER_MODULES),
    # Wake-up latency is timed in ticks, so under icount (time = instructions): a loaded host
    # cannot make a tick look late. Under rr the program must report the late wake-ups (status
    # 5), which shows that the check can fail.
    Case(
        "prio-wakeup-preempts-icount",
        "test=process.high_priority_wakeup_preempts_a_hog sched=prio",
        {**BASE, "MODE": "icount", "ACCEL": "tcg"},
        qemu_args=USER_MODULES,
    ),
    Case(
        "rr-wakeup-waits-icount",
        "test=process.high_priority_wakeup_preempts_a_hog sched=rr",
        {**BASE, "MODE": "icount", "ACCEL": "tcg"},
        qemu_args=USER_MODULES,
    ),
    # The IPC tests (tests/kernel/test_ipc.c) by themselves, including the explicit
    # ipc.million_calls_between_processes, which takes 15-50 s under TCG (test=all leaves it
    # out). On one CPU with the fast path, on two under sched=prio (the cross-CPU test then
    # pins its server on the other CPU), and on two with the fast path off (every call takes
    # the slow path; ipc_million then checks that no fast-path call was counted).
    Case("ipc", "test=ipc", {**BASE}, qemu_args=USER_MODULES, timeout_s=180.0),
    Case(
        "ipc-prio-smp2",
        "test=ipc sched=prio",
        {**BASE, "SMP": "2"},
        qemu_args=USER_MODULES,
        timeout_s=180.0,
        expect=Expect(log_regex=r"^ipc_smp: 2 CPUs \(told\), clients on CPU (\d), server on CPU (?!\1)\d"),
    ),
    Case("ipc-fastpath-off-smp2", "test=ipc fastpath=off", {**BASE, "SMP": "2"},
         qemu_args=USER_MODULES, timeout_s=240.0,
         expect=Expect(log_regex=r"^ipc_million: .* fast path off: 0 fast")),
    # The echo workload over each transport (tests/kernel/test_transport.c): the short runs
    # through both APIs, the explicit 1,000,000-request run (in place), and the failure cases of
    # the transport under test. Timeouts are about 3x the measured boot under TCG: fastpath 18 s.
    # ring and zcopy need memory objects (branch memobj); the ring peer-death test needs
    # SYS_NOTIFY_WAIT's ERR_PIPE for a notification nobody can signal any more.
    Case("transport-fastpath", "test=" + TRANSPORT_ECHO + " ipc=fastpath", {**BASE},
         qemu_args=USER_MODULES, timeout_s=60.0,
         expect=Expect(log_regex=r"^echo_client: 1000000 requests over fastpath")),
    Case("transport-ring", "test=" + TRANSPORT_ECHO + ",transport.ring_peer_killed_gives_pipe_error"
         " ipc=ring", {**BASE}, qemu_args=USER_MODULES, timeout_s=240.0,
         expect=Expect(log_regex=r"^echo_client: 1000000 requests over ring")),
    Case("transport-zcopy", "test=" + TRANSPORT_ECHO +
         ",transport.zcopy_hostile_descriptors_refused,transport.zcopy_large_payloads_granted ipc=zcopy", {**BASE},
         qemu_args=USER_MODULES, timeout_s=240.0,
         expect=Expect(log_regex=r"^echo_client: 1000000 requests over zcopy")),
    Case("transport-ring-smp2", "test=" + TRANSPORT_ECHO +
         ",transport.ring_peer_killed_gives_pipe_error ipc=ring", {**BASE, "SMP": "2"},
         qemu_args=USER_MODULES, timeout_s=300.0,
         expect=Expect(log_regex=r"^echo_client: 1000000 requests over ring")),
    Case(
        "bad-ipc-detected",
        "test=sched ipc=nosuch",
        {**BASE},
        expect=Expect(verdict="failed",
                      log_regex=r"^cmdline: error: option 'ipc': no transport 'nosuch' \(known: fastpath, ring, zcopy\)"),
    ),
    Case(
        "bad-sched-detected",
        "test=sched sched=nosuch",
        {**BASE},
        expect=Expect(verdict="failed", log_regex=r"^cmdline: error: option 'sched': no policy 'nosuch'"),
    ),
    # A test= value the parser refuses still ends the boot with a failed verdict, not an idle
    # kernel that only the harness timeout stops.
    Case(
        "bad-test-filter-too-long-detected",
        "test=" + "sched," * 50 + "sched",
        {**BASE},
        timeout_s=30.0,
        expect=Expect(verdict="failed", log_regex=r"^cmdline: error: option 'test': .* is too long"),
    ),
    # icount only exists under TCG; saying so keeps an ACCEL=kvm caller from turning this case
    # into a qemu.sh refusal.
    Case("all-icount", "test=all", {**BASE, "MODE": "icount", "ACCEL": "tcg"}, qemu_args=USER_MODULES),
    # Single-threaded TCG runs vCPUs round-robin: an AP that spun instead of halting would starve
    # the boot CPU here. (Whole test=all boots under icount use one vCPU, as benchmarks do.)
    Case("smp2-icount", "test=smp,time", {**BASE, "SMP": "2", "MODE": "icount", "ACCEL": "tcg"},
         expect=Expect(log_regex=r"^smp: 2 of 2 CPUs online \(MADT\)")),
    # 4 GiB of guest RAM puts the PCI hole below 4 GiB into the memory map, so RAM is split.
    Case("mem-4g", "test=all", {**BASE, "MEM": "4G"}, qemu_args=USER_MODULES),
    # Trace rings in an ivshmem file shared with the host, then exported to Perfetto JSON.
    Case(
        "trace-ivshmem",
        "test=trace,pci trace=on",
        {**BASE},
        qemu_args=("--trace", "{logdir}/trace-ivshmem.shm"),
        post=("scripts/trace_export.py", "{logdir}/trace-ivshmem.shm", "--out", "{logdir}/trace-ivshmem", "--no-png"),
    ),
    # No ivshmem device: the fallback dumps the rings over serial.
    Case(
        "trace-serial",
        "test=trace trace=irq,exc,mark",
        {**BASE},
        post=("scripts/trace_export.py", "{log}", "--format", "serial", "--out", "{logdir}/trace-serial", "--no-png"),
    ),
    Case(
        "bad-trace-option-detected",
        "test=trace trace=irq,bogus",
        {**BASE},
        expect=Expect(verdict="failed", log_regex=r"^cmdline: error: option 'trace': unknown event class 'bogus'"),
    ),
    Case(
        "fault-detected",
        "test=fault",
        {**BASE},
        expect=Expect(verdict="failed", exception="#PF", fault_addr=True, reason_prefix="panic"),
    ),
    Case(
        "bad-option-detected",
        "test=all frobnicate=1",
        {**BASE},
        expect=Expect(verdict="failed", log_regex=r"^\s*cmdline: error: .*frobnicate"),
    ),
    Case(
        "hang-detected",
        "test=hang",
        {**BASE},
        timeout_s=10.0,
        expect=Expect(verdict="failed", reason_prefix="hang"),
    ),
]


def by_name(name: str) -> Case:
    for c in CASES:
        if c.name == name:
            return c
    raise KeyError(name)

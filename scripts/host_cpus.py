"""Admission of boots by the host CPUs their vCPUs need (scripts/run_tests.py runs boots in parallel)."""

from __future__ import annotations

import os
import threading


class HostCpus:
    """Admits boots while the vCPU threads they run fit the host's CPUs.

    A guest spinning on a lock whose holder's vCPU thread the host has descheduled waits for a
    host time slice per lock hand-off: TCG has nothing like pause-loop exiting to give the CPU
    back. Measured here (2 host CPUs): the cross-CPU IPC test takes 1.7 s alone, 4.4 s next to
    a one-vCPU boot, and over 60 s next to another two-vCPU boot. So boots overlap only while
    their vCPUs add up to no more than the host has; a boot that wants more than that runs
    alone."""

    def __init__(self, capacity: int):
        self.capacity = max(1, capacity)
        self.free = self.capacity
        self.cond = threading.Condition()

    def demand(self, env: dict) -> int:
        # icount runs every vCPU round-robin on one host thread.
        if env.get("MODE") == "icount":
            return 1
        try:
            vcpus = int(env.get("SMP", "1"))
        except ValueError:
            vcpus = 1
        return min(max(1, vcpus), self.capacity)

    def acquire(self, n: int) -> None:
        with self.cond:
            self.cond.wait_for(lambda: self.free >= n)
            self.free -= n

    def release(self, n: int) -> None:
        with self.cond:
            self.free += n
            self.cond.notify_all()


def host_cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1

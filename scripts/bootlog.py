#!/usr/bin/env python3
"""Turn one Tachyon boot's serial log plus QEMU's exit status into a verdict.

The kernel's serial protocol (one item per line):
    tachyon: ready in <N> us
    TEST PASS <suite>.<name>
    TEST FAIL <suite>.<name>: <reason>
    TEST DONE passed=<n> failed=<m>          then isa-debug-exit: 33 passed / 35 failed
    cmdline: error: <message>
    EXCEPTION <mnemonic> (vector <n>) ... rip=0x... [addr=0x...]
    PANIC: <message>                          then isa-debug-exit: 37

The rule this module exists to enforce: a boot is "passed" only on positive evidence (DONE seen
once, every TEST line a pass, DONE's counts equal to the lines actually received, exit status 33,
no exception, no panic). Anything missing, cut off, duplicated or contradictory reads as failed,
so a lost line or a truncated log can never look like success.

Usable as a module (parse/parse_file) or from the shell:
    scripts/bootlog.py build/test/boot-all.log --exit 33
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
from dataclasses import asdict, dataclass, field
from typing import NamedTuple, Optional

EXIT_PASSED = 33  # (0x10 << 1) | 1
EXIT_FAILED = 35  # (0x11 << 1) | 1
EXIT_PANIC = 37  # (0x12 << 1) | 1
EXIT_RESET = 0  # -no-reboot turns a triple fault into a clean QEMU exit

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_READY = re.compile(r"^tachyon: ready in (\d+) us\b")
_PASS = re.compile(r"^TEST PASS (\S+)\s*$")
_FAIL = re.compile(r"^TEST FAIL ([^\s:]+)(?::\s*(.*))?$")
_DONE = re.compile(r"^TEST DONE passed=(\d+) failed=(\d+)\s*$")
_CMDLINE_ERR = re.compile(r"^cmdline: error: (.*)$")
# The mnemonic may be followed by a description: "EXCEPTION #PF page fault (vector 14) ...".
_EXCEPTION = re.compile(r"^EXCEPTION (\S+)\b[^(]*\(vector (\d+)\)(.*)$")
_PANIC = re.compile(r"^PANIC: ?(.*)$")
# Register dumps print bare hex ("cr2=000000000dead000"), the EXCEPTION line 0x-prefixed hex.
_RIP = re.compile(r"\brip=(?:0x)?([0-9a-fA-F]+)\b")
_ADDR = re.compile(r"\b(?:addr|cr2)=(?:0x)?([0-9a-fA-F]+)\b")


class TestResult(NamedTuple):
    name: str
    passed: bool
    reason: str  # "" for a pass


@dataclass
class ExceptionInfo:
    mnemonic: str
    vector: int
    rip: Optional[str] = None
    addr: Optional[str] = None
    line: str = ""

    def describe(self) -> str:
        s = f"{self.mnemonic} at rip={self.rip or '?'}"
        if self.addr:
            s += f" addr={self.addr}"
        return s


@dataclass
class BootResult:
    verdict: str = "failed"  # "passed" or "failed"
    reason: str = ""  # the most important problem, "" when passed
    problems: list[str] = field(default_factory=list)  # every problem found, most important first
    tests: list[TestResult] = field(default_factory=list)
    done: bool = False
    done_lines: int = 0
    done_passed: Optional[int] = None
    done_failed: Optional[int] = None
    counts_agree: bool = False
    ready_us: Optional[int] = None
    exception: Optional[ExceptionInfo] = None
    exceptions: list[ExceptionInfo] = field(default_factory=list)
    panic: Optional[str] = None
    cmdline_errors: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    exit_status: Optional[int] = None
    timed_out: bool = False
    timeout_s: Optional[float] = None
    last_line: str = ""
    # True when the verdict is failed only because some in-kernel tests reported FAIL (and the
    # kernel exited 35 saying so): the per-test lines then already say everything.
    only_test_failures: bool = False

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    @property
    def failed_tests(self) -> list[TestResult]:
        return [t for t in self.tests if not t.passed]

    def summary(self) -> str:
        if self.passed:
            return f"passed ({len(self.tests)} tests)"
        return f"failed: {self.reason}"


def describe_exit(status: Optional[int]) -> str:
    if status is None:
        return "no exit status"
    if status < 0:
        try:
            return f"killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    known = {
        EXIT_PASSED: "tests passed",
        EXIT_FAILED: "tests failed",
        EXIT_PANIC: "panic",
        EXIT_RESET: "triple fault / reset",
        1: "QEMU error",
        2: "qemu.sh refused",
    }
    return f"exit status {status}" + (f" ({known[status]})" if status in known else "")


def _test_line(line: str) -> Optional[TestResult]:
    if m := _PASS.match(line):
        return TestResult(m.group(1), True, "")
    if m := _FAIL.match(line):
        return TestResult(m.group(1), False, (m.group(2) or "").strip() or "no reason given")
    return None


def _new_exception(m: re.Match, line: str) -> ExceptionInfo:
    e = ExceptionInfo(m.group(1), int(m.group(2)), line=line)
    rest = m.group(3)
    if rm := _RIP.search(rest):
        e.rip = "0x" + rm.group(1)
    if am := _ADDR.search(rest):
        e.addr = "0x" + am.group(1)
    return e


def _clean(line: str) -> str:
    return _ANSI.sub("", line.replace("\x00", "")).rstrip("\r").strip()


def parse(
    log: str | bytes,
    exit_status: Optional[int],
    *,
    timed_out: bool = False,
    timeout_s: Optional[float] = None,
) -> BootResult:
    """Parse a whole serial log. exit_status is QEMU's (None if it was killed on timeout)."""
    if isinstance(log, bytes):
        log = log.decode("utf-8", errors="replace")
    r = BootResult(exit_status=exit_status, timed_out=timed_out, timeout_s=timeout_s)

    raw = log.split("\n")
    # A last line with no newline may have been cut mid-write ("passed=1" of "passed=12"), so it
    # must not count as evidence of success; it still counts as evidence of trouble.
    tail = raw.pop() if raw else ""
    lines = [_clean(x) for x in raw]
    tail = _clean(tail)

    seen: dict[str, int] = {}
    duplicates: list[str] = []
    after_done: list[str] = []
    pending_exc: Optional[ExceptionInfo] = None

    def exception_details(line: str) -> None:
        """Fill in rip/addr of the latest exception from the register dump that follows it."""
        if pending_exc is None:
            return
        if pending_exc.rip is None and (m := _RIP.search(line)):
            pending_exc.rip = "0x" + m.group(1)
        # Register dumps print CR2 for every exception, but it only means something for #PF.
        if pending_exc.addr is None and pending_exc.vector == 14 and (m := _ADDR.search(line)):
            pending_exc.addr = "0x" + m.group(1)

    for line in lines:
        if not line:
            continue
        r.last_line = line
        if m := _READY.match(line):
            if r.ready_us is None:
                r.ready_us = int(m.group(1))
        elif m := _DONE.match(line):
            r.done_lines += 1
            if r.done_lines == 1:
                r.done_passed, r.done_failed = int(m.group(1)), int(m.group(2))
        elif (t := _test_line(line)) is not None:
            if r.done_lines:
                after_done.append(t.name)
            seen[t.name] = seen.get(t.name, 0) + 1
            if seen[t.name] == 2:
                duplicates.append(t.name)
            r.tests.append(t)
        elif line.startswith("TEST "):
            r.malformed.append(line)
        elif m := _CMDLINE_ERR.match(line):
            r.cmdline_errors.append(m.group(1).strip())
        elif m := _EXCEPTION.match(line):
            pending_exc = _new_exception(m, line)
            r.exceptions.append(pending_exc)
        elif m := _PANIC.match(line):
            if r.panic is None:
                r.panic = m.group(1).strip() or "(no message)"
            pending_exc = None
        else:
            exception_details(line)

    if tail:
        r.last_line = tail
        if m := _EXCEPTION.match(tail):
            r.exceptions.append(_new_exception(m, tail))
        elif m := _PANIC.match(tail):
            r.panic = r.panic or (m.group(1).strip() or "(no message)")
        else:
            exception_details(tail)
    if r.exceptions:
        r.exception = r.exceptions[0]

    r.done = r.done_lines > 0
    npass = sum(t.passed for t in r.tests)
    nfail = len(r.tests) - npass
    r.counts_agree = r.done and r.done_passed == npass and r.done_failed == nfail

    # Most important first: what stopped the kernel, then what is missing or contradictory, then
    # plain test failures. reason is problems[0].
    p: list[tuple[str, str]] = []
    if r.exception:
        p.append(("panic", f"panic: {r.exception.describe()}"))
    elif r.panic:
        p.append(("panic", f"panic: {r.panic}"))
    if timed_out:
        after = f" after {timeout_s:g} s" if timeout_s is not None else ""
        if r.done:
            p.append(("hang", f"hang: QEMU did not exit{after} despite TEST DONE"))
        else:
            p.append(("hang", f"hang: no DONE{after}"))
    elif exit_status == EXIT_RESET:
        p.append(("reset", "triple fault / reset (exit 0)"))
    elif exit_status == EXIT_PANIC and not (r.exception or r.panic):
        p.append(("panic", "panic: exit status 37 without a PANIC line"))
    elif exit_status not in (EXIT_PASSED, EXIT_FAILED, EXIT_PANIC):
        # Not a status the kernel produces (QEMU failed to start, qemu.sh refused, a signal):
        # that, not what the log lacks as a consequence, is the story.
        p.append(("exit", describe_exit(exit_status)))
    if r.done_lines > 1:
        p.append(("duplicate-done", f"duplicate TEST DONE ({r.done_lines} lines)"))
    if not r.done and not timed_out:
        if tail.startswith("TEST "):
            p.append(("truncated", f"truncated log: last line cut off: {tail!r}"))
        else:
            p.append(("truncated", "no TEST DONE line (truncated log?)"))
    if r.done and not r.counts_agree:
        p.append(
            (
                "count-mismatch",
                f"count mismatch: DONE says passed={r.done_passed} failed={r.done_failed}, "
                f"log has {npass} PASS and {nfail} FAIL lines",
            )
        )
    if after_done:
        p.append(("after-done", f"TEST lines after DONE: {', '.join(after_done[:5])}"))
    if duplicates:
        p.append(("duplicate-test", f"duplicate TEST lines for: {', '.join(duplicates[:5])}"))
    if r.malformed:
        p.append(("malformed", f"malformed TEST line: {r.malformed[0]!r}"))
    # A bad option is the cause of the kernel's own boot.cmdline failure, so it goes first.
    if r.cmdline_errors:
        p.append(("cmdline", f"cmdline error: {r.cmdline_errors[0]}"))
    if nfail:
        names = ", ".join(t.name for t in r.failed_tests[:5])
        more = f" (+{nfail - 5} more)" if nfail > 5 else ""
        p.append(("tests", f"{nfail} test(s) failed: {names}{more}"))
    if not timed_out and exit_status != EXIT_PASSED and not any(k in ("reset", "panic", "exit") for k, _ in p):
        p.append(("exit", describe_exit(exit_status)))
    if r.done and r.counts_agree and not r.tests:
        p.append(("no-tests", "no tests ran (TEST DONE passed=0 failed=0)"))

    r.problems = [msg for _, msg in p]
    if p:
        r.verdict = "failed"
        r.reason = p[0][1]
        kinds = {k for k, _ in p}
        r.only_test_failures = kinds <= {"tests", "exit"} and "tests" in kinds and exit_status == EXIT_FAILED
    else:
        r.verdict = "passed"
        r.reason = ""
    return r


def parse_file(path: str, exit_status: Optional[int], **kw) -> BootResult:
    with open(path, "rb") as f:
        return parse(f.read(), exit_status, **kw)


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Judge one Tachyon boot log.")
    ap.add_argument("log", help="serial log file")
    ap.add_argument("--exit", type=int, default=None, help="QEMU's exit status")
    ap.add_argument("--timed-out", action="store_true", help="the harness killed QEMU")
    ap.add_argument("--timeout", type=float, default=None, help="the timeout that was hit (s)")
    ap.add_argument("--json", action="store_true", help="print the whole result as JSON")
    a = ap.parse_args(argv)
    r = parse_file(a.log, a.exit, timed_out=a.timed_out, timeout_s=a.timeout)
    if a.json:
        print(json.dumps(asdict(r), indent=2))
    else:
        for t in r.tests:
            print(("PASS " if t.passed else "FAIL ") + t.name + ("" if t.passed else f": {t.reason}"))
        if r.ready_us is not None:
            print(f"ready in {r.ready_us} us")
        print(r.summary())
        for extra in r.problems[1:]:
            print(f"  also: {extra}")
    return 0 if r.passed else 1


if __name__ == "__main__":
    sys.exit(main())

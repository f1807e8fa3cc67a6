#!/usr/bin/env python3
"""Tachyon's test runner: what `make test` calls.

    scripts/run_tests.py --host build/host/test_a build/host/test_b ... \\
                         --boot build/tachyon.bin [--only NAME]... [--logdir build/test]

Runs, in order:
  1. host unit-test binaries (tests/host/check.c protocol: RUN/PASS/FAIL lines, then a
     "<bin>: N passed, N failed" summary),
  2. the Python unit tests (tests/host/test_*.py),
  3. the accelerator-choice checks on scripts/qemu.sh,
  4. every boot case in tests/boot/cases.py, through scripts/qemu.sh, two at a time as long as
     their vCPUs fit the host's CPUs (HostCpus), each under a hard timeout, each boot's serial
     log kept in --logdir.

Prints one PASS/FAIL line per result and ends with exactly one line "N passed, N failed".
Exit status: 0 when nothing failed, 1 otherwise, 2 for bad usage or when nothing ran at all.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import glob
import importlib.util
import os
import re
import signal
import subprocess
import sys
import threading
import time
import traceback
import unittest
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests" / "boot"))
import bootlog  # noqa: E402
from testresults import TAIL_LINES, Results, crash_excerpt, describe_rc, selected, tail  # noqa: E402
import cases as boot_cases  # noqa: E402
from host_cpus import HostCpus, host_cpu_count  # noqa: E402

QEMU_SH = ROOT / "scripts" / "qemu.sh"
READY_MARK = b"tachyon: ready in"
# A kernel stuck printing in a loop can write megabytes a second; past this the log is useless
# and only fills the disk.
LOG_CAP_BYTES = 64 << 20

# Boots still running, so that an interrupted or terminated run does not leave QEMUs behind (they
# run in their own sessions, out of reach of the terminal's Ctrl-C).
_live: set[subprocess.Popen] = set()
_live_lock = threading.Lock()
_stopping = False


def _kill_group(p: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            return
        try:
            p.wait(timeout=2)
            return
        except subprocess.TimeoutExpired:
            pass


def _kill_all_live() -> None:
    global _stopping
    with _live_lock:
        _stopping = True
        procs = list(_live)
    for p in procs:
        _kill_group(p)


# ---------------------------------------------------------------------------------------------
# Unit-test programs: host C binaries and Python workers speak the same line protocol.

_RUN = re.compile(r"^RUN\s+(\S+)\s*$")
_UPASS = re.compile(r"^PASS\s+(\S+)\s*$")
_UFAIL = re.compile(r"^FAIL\s+([^\s:]+):?\s*(.*)$")
_USUMMARY = re.compile(r"^(.*): (\d+) passed, (\d+) failed\s*$")


def run_unit_program(res: Results, group: str, label: str, cmd: list[str], timeout_s: float) -> None:
    """Run one test program and record each of its results as group/label/test."""
    prefix = f"{group}/{label}"
    try:
        cp = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout_s,
            cwd=ROOT,
        )
        out, rc, timed_out = cp.stdout, cp.returncode, False
    except subprocess.TimeoutExpired as e:
        out, rc, timed_out = e.stdout or b"", None, True
    except OSError as e:
        res.record(False, prefix, f"cannot run: {e}")
        return
    text = out.decode("utf-8", errors="replace")

    details: list[str] = []
    running: Optional[str] = None
    npass = nfail = 0
    summary: Optional[tuple[int, int]] = None
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if m := _RUN.match(line):
            running, details = m.group(1), []
        elif m := _UPASS.match(line):
            npass += 1
            res.record(True, f"{prefix}/{m.group(1)}")
            running, details = None, []
        elif m := _UFAIL.match(line):
            nfail += 1
            why, det = m.group(2), details
            if not why and details:
                # check.c prints "file:line: check failed: ..." before the FAIL line.
                why, det = details[0].strip(), details[1:]
            res.record(False, f"{prefix}/{m.group(1)}", why, det[-TAIL_LINES:])
            running, details = None, []
        elif m := _USUMMARY.match(line):
            summary = (int(m.group(2)), int(m.group(3)))
        elif line.strip():
            details.append(line)

    # Whatever went wrong outside the per-test lines (a crash, a sanitizer abort, a hang, a lost
    # summary) becomes one failure named after the program, so it can never disappear.
    problems = []
    if timed_out:
        problems.append(f"timed out after {timeout_s:g} s")
    if running:
        problems.append(f"died inside test {running}")
    if rc is not None and rc != 0 and nfail == 0:
        problems.append(f"{describe_rc(rc)} without a FAIL line")
    if rc == 0 and nfail:
        problems.append("exit status 0 despite FAIL lines")
    if not timed_out and summary is None:
        problems.append("no summary line")
    elif summary is not None and summary != (npass, nfail):
        problems.append(f"summary says {summary[0]} passed, {summary[1]} failed; saw {npass} PASS, {nfail} FAIL")
    elif not timed_out and npass + nfail == 0:
        # A test file whose tests never registered would otherwise vanish from the count.
        problems.append("ran no tests")
    if problems:
        res.record(False, prefix, "; ".join(problems), ["output:"] + crash_excerpt(text))


def run_host_tests(res: Results, bins: list[str], only: list[str], timeout_s: float) -> int:
    ran = 0
    for b in bins:
        name = os.path.basename(b)
        if not selected(only, name, f"host/{name}"):
            continue
        ran += 1
        if not os.access(b, os.X_OK):
            res.record(False, f"host/{name}", f"{b} is missing or not executable (build it: make host-tests)")
            continue
        run_unit_program(res, "host", name, [os.path.abspath(b)], timeout_s)
    return ran


class _LineResult(unittest.TestResult):
    """Prints the host-test line protocol, so the parent parses Python tests like C ones."""

    def __init__(self, module: str):
        super().__init__()
        self._module = module

    def _name(self, test) -> str:
        # The parent already prefixes py/<file>/, so the module part of the id is noise.
        tid = test.id()
        return tid[len(self._module) + 1 :] if tid.startswith(self._module + ".") else tid

    def startTest(self, test):
        super().startTest(test)
        print(f"RUN  {self._name(test)}", flush=True)

    def _fail(self, test, err):
        lines = self._exc_info_to_string(err, test).rstrip().split("\n")
        for line in lines:
            print(f"  {line}")
        # The traceback's last line ("AssertionError: ...") is the one worth a summary.
        print(f"FAIL {self._name(test)}: {lines[-1].strip()}", flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        print(f"PASS {self._name(test)}", flush=True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test, err)

    def addError(self, test, err):
        super().addError(test, err)
        self._fail(test, err)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._fail(subtest, err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        print(f"SKIP {self._name(test)}: {reason}", flush=True)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        print(f"PASS {self._name(test)}", flush=True)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        print(f"FAIL {self._name(test)}: unexpected success", flush=True)


def py_worker(path: str) -> int:
    """Child-process side of the Python tests: import one test file and run it."""
    passed = failed = 0
    try:
        name = Path(path).stem
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        suite = unittest.TestLoader().loadTestsFromModule(mod)
        result = _LineResult(name)
        suite.run(result)
        failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
        passed = result.testsRun - failed - len(result.skipped)
    except Exception:
        traceback.print_exc()
        print("FAIL import: could not load the test file")
        failed += 1
    print(f"{path}: {passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


def run_python_tests(res: Results, files: list[str], only: list[str], timeout_s: float) -> int:
    ran = 0
    for f in files:
        stem = Path(f).stem
        if not selected(only, stem, f"py/{stem}"):
            continue
        ran += 1
        # Labels come from unittest ids ("test_bootlog.Class.test"), so the group alone is enough.
        run_unit_program(res, "py", stem, [sys.executable, str(Path(__file__).resolve()), "--py-worker", f], timeout_s)
    return ran


# ---------------------------------------------------------------------------------------------
# Accelerator choice. The hardware-KVM rule is restated here on purpose: if qemu.sh's copy
# regressed, comparing it against itself would prove nothing.


def hardware_kvm() -> tuple[bool, str]:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        cpuinfo = ""
    flags = next((ln.split(":", 1)[1].split() for ln in cpuinfo.splitlines() if ln.startswith("flags")), [])
    hw = "vmx" in flags or "svm" in flags or os.path.isdir("/sys/module/kvm_intel") or os.path.isdir("/sys/module/kvm_amd")
    if not hw:
        pvm = " (kvm_pvm loaded)" if os.path.isdir("/sys/module/kvm_pvm") else ""
        return False, f"no vmx/svm and no kvm_intel/kvm_amd{pvm}"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "hardware virtualization present but /dev/kvm is not usable"
    return True, "hardware KVM"


def _explain(env_over: dict) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ACCEL", "MODE")}
    env.update(env_over)
    try:
        cp = subprocess.run(
            ["bash", str(QEMU_SH), "--explain"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            timeout=120,  # a cold KVM probe tries up to three CPU models, 20 s each
        )
    except subprocess.TimeoutExpired:
        return 124, "qemu.sh --explain timed out"
    return cp.returncode, cp.stdout.decode("utf-8", errors="replace")


def _picked(out: str) -> Optional[str]:
    m = re.search(r"^qemu\.sh: accel=(\w+)", out, re.MULTILINE)
    return m.group(1) if m else None


def run_accel_checks(res: Results, only: list[str]) -> int:
    hw, why = hardware_kvm()
    ran = 0
    if not hw:
        if selected(only, "accel-kvm-refused", "accel/accel-kvm-refused"):
            ran += 1
            rc, out = _explain({"ACCEL": "kvm"})
            first = out.strip().split("\n")[0] if out.strip() else ""
            ok = rc == 2 and "refused" in out and re.search(r"kvm_pvm|vmx|svm|/dev/kvm", out) is not None
            res.record(ok, "accel-kvm-refused", f"{why}; ACCEL=kvm gave {describe_rc(rc)}: {first}")
        if selected(only, "accel-auto-tcg", "accel/accel-auto-tcg"):
            ran += 1
            rc, out = _explain({})
            got = _picked(out)
            res.record(rc == 0 and got == "tcg", "accel-auto-tcg", f"{why}; --explain picked {got}, {describe_rc(rc)}")
    else:
        if selected(only, "accel-kvm-picked", "accel/accel-kvm-picked"):
            ran += 1
            rc, out = _explain({})
            got = _picked(out)
            details = [] if got == "kvm" else out.strip().split("\n")
            res.record(rc == 0 and got == "kvm", "accel-kvm-picked", f"{why}; --explain picked {got}", details)
    if selected(only, "accel-icount-kvm-refused", "accel/accel-icount-kvm-refused"):
        ran += 1
        rc, out = _explain({"ACCEL": "kvm", "MODE": "icount"})
        res.record(rc == 2 and "icount" in out, "accel-icount-kvm-refused", f"MODE=icount ACCEL=kvm gave {describe_rc(rc)}")
    return ran


# ---------------------------------------------------------------------------------------------
# Boots.


@dataclass
class Boot:
    case: boot_cases.Case
    log_path: Path
    rc: Optional[int] = None
    timed_out: bool = False
    wall_ready: Optional[float] = None
    wall_total: float = 0.0
    qemu_line: str = ""
    stderr: str = ""
    log: str = ""
    capped: bool = False
    error: Optional[str] = None
    post_error: str = ""
    result: Optional[bootlog.BootResult] = None
    extra: list[str] = field(default_factory=list)

    @property
    def accel_label(self) -> str:
        m = re.search(r"accel=(\w+)", self.qemu_line)
        if not m:
            return "accel unknown"
        label = m.group(1).upper()
        if re.search(r"mode=icount", self.qemu_line):
            label += " icount"
        return label


def _pump(fd: int, logf, boot: Boot, t0: float) -> None:
    """Copy QEMU's serial output to the log, noting when the ready line arrives."""
    window = b""
    written = 0
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        if boot.wall_ready is None:
            # Keep the tail of the previous chunk so a marker split across reads is still seen.
            window = window[-len(READY_MARK) :] + chunk
            if READY_MARK in window:
                boot.wall_ready = time.monotonic() - t0
        if written < LOG_CAP_BYTES:
            logf.write(chunk[: LOG_CAP_BYTES - written])
            written += len(chunk)
            if written >= LOG_CAP_BYTES:
                boot.capped = True
    logf.flush()


def run_boot(case: boot_cases.Case, image: str, logdir: Path, cpus: Optional[HostCpus] = None) -> Boot:
    """Boots one case; with cpus, only once its vCPUs fit beside the boots already running."""
    env = dict(os.environ)
    env.update(case.env)
    if cpus is None:
        return run_admitted_boot(case, image, logdir, env)
    n = cpus.demand(env)
    cpus.acquire(n)
    try:
        return run_admitted_boot(case, image, logdir, env)
    finally:
        cpus.release(n)


def run_admitted_boot(case: boot_cases.Case, image: str, logdir: Path, env: dict) -> Boot:
    boot = Boot(case=case, log_path=logdir / f"boot-{case.name}.log")
    err_path = logdir / f"boot-{case.name}.stderr"
    cmd = ["bash", str(QEMU_SH), "--kernel", image, "--cmdline", case.cmdline]
    cmd += [a.format(logdir=logdir) for a in case.qemu_args]
    with open(boot.log_path, "wb") as logf, open(err_path, "wb") as errf:
        t0 = time.monotonic()
        # Start and register under the lock, so a concurrent interrupt either sees this QEMU
        # or stops it from starting.
        with _live_lock:
            if _stopping:
                boot.error = "interrupted"
                return boot
            try:
                p = subprocess.Popen(
                    cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errf, env=env, start_new_session=True
                )
            except OSError as e:
                boot.error = f"cannot start qemu.sh: {e}"
                return boot
            _live.add(p)
        reader = threading.Thread(target=_pump, args=(p.stdout.fileno(), logf, boot, t0), daemon=True)
        reader.start()
        try:
            boot.rc = p.wait(timeout=case.timeout_s)
        except subprocess.TimeoutExpired:
            boot.timed_out = True
            _kill_group(p)
            p.wait()
        boot.wall_total = time.monotonic() - t0
        with _live_lock:
            _live.discard(p)
        reader.join(timeout=10)
        p.stdout.close()
    boot.log = boot.log_path.read_bytes().decode("utf-8", errors="replace")
    boot.stderr = err_path.read_bytes().decode("utf-8", errors="replace")
    boot.qemu_line = next((ln for ln in boot.stderr.splitlines() if ln.startswith("qemu.sh: accel=")), "")
    boot.result = bootlog.parse(
        boot.log, None if boot.timed_out else boot.rc, timed_out=boot.timed_out, timeout_s=case.timeout_s
    )
    if boot.capped:
        boot.extra.append(f"serial log capped at {LOG_CAP_BYTES >> 20} MiB")
    if case.post and boot.result.passed:
        post = [a.format(logdir=logdir, log=boot.log_path) for a in case.post]
        p = subprocess.run([sys.executable, *post], cwd=ROOT, capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            boot.post_error = f"{' '.join(post)} exited {p.returncode}"
            boot.extra += [f"! {ln}" for ln in (p.stdout + p.stderr).splitlines()[-TAIL_LINES:]]
    return boot


def report_boot(res: Results, boot: Boot) -> None:
    case, r = boot.case, boot.result
    name = case.name
    rel = os.path.relpath(boot.log_path) if boot.log_path.resolve().is_relative_to(Path.cwd()) else str(boot.log_path)
    if boot.error:
        print(f"boot {name}: not started")
        res.record(False, f"boot/{name}", boot.error)
        return

    if boot.wall_ready is not None:
        when = f"ready after {boot.wall_ready:.2f} s wall ({boot.accel_label})"
    else:
        when = f"no ready line after {boot.wall_total:.2f} s wall ({boot.accel_label})"
    kernel = f", kernel says {r.ready_us} us" if r.ready_us is not None else ""
    print(f"boot {name}: {when}{kernel}")

    # Serial tail, then whatever QEMU or qemu.sh said besides the one line we already know.
    stderr_lines = [ln for ln in boot.stderr.splitlines() if ln.strip() and not ln.startswith("qemu.sh: accel=")]
    details = [f"log: {rel}"] + boot.extra + [f"| {ln}" for ln in tail(boot.log)]
    if stderr_lines:
        details += ["qemu stderr:"] + [f"! {ln}" for ln in stderr_lines[-TAIL_LINES:]]

    if case.expects_pass:
        for t in r.tests:
            res.record(t.passed, f"boot/{name}/{t.name}", "" if t.passed else f"{t.reason} (log: {rel})")
        if not r.passed and not (r.only_test_failures and not boot.capped):
            res.record(False, f"boot/{name}", r.reason, details + [f"also: {p}" for p in r.problems[1:]])
        if case.expect.log_regex:
            ok, why = case.expect.log_ok(boot.log)
            res.record(ok, f"boot/{name}/log", "" if ok else f"{why} (log: {rel})")
        if case.post and r.passed:
            res.record(not boot.post_error, f"boot/{name}/post", boot.post_error, details if boot.post_error else [])
    else:
        ok, why = case.expect.check(r, boot.log)
        res.record(ok, f"boot/{name}", why, [] if ok else details)


def run_boots(res: Results, image: Optional[str], logdir: Path, only: list[str], jobs: int) -> int:
    cases = [c for c in boot_cases.CASES if selected(only, c.name, f"boot/{c.name}")]
    if not cases:
        return 0
    if image is None:
        for c in cases:
            res.record(False, f"boot/{c.name}", "no kernel image given (--boot)")
        return len(cases)
    if not os.path.isfile(image):
        for c in cases:
            res.record(False, f"boot/{c.name}", f"kernel image {image} not found (build it: make)")
        return len(cases)
    logdir.mkdir(parents=True, exist_ok=True)
    image = os.path.abspath(image)
    # Not a with-block: on Ctrl-C its exit would wait for every running boot to time out.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs))
    cpus = HostCpus(host_cpu_count())
    try:
        futures = [pool.submit(run_boot, c, image, logdir, cpus) for c in cases]
        # Report strictly in matrix order, whatever order the boots finish in.
        for c, fut in zip(cases, futures):
            try:
                boot = fut.result()
            except Exception as e:  # a harness bug must fail loudly, not skip the case
                res.record(False, f"boot/{c.name}", f"harness error: {e!r}", traceback.format_exc().splitlines())
                continue
            report_boot(res, boot)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        _kill_all_live()
    return len(cases)


# ---------------------------------------------------------------------------------------------


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Run Tachyon's host, Python and boot tests.")
    ap.add_argument("--host", nargs="*", default=[], metavar="BIN", help="host unit-test binaries")
    ap.add_argument("--boot", metavar="IMAGE", help="kernel image to boot (build/tachyon.bin)")
    ap.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="run only what matches NAME (glob; a boot case, accel check, host binary or "
                         "Python test file; may repeat)")
    ap.add_argument("--logdir", default="build/test", help="where boot logs go (default build/test)")
    ap.add_argument("--py", nargs="*", default=None, metavar="FILE",
                    help="Python test files (default tests/host/test_*.py)")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="boots at a time (default 2)")
    ap.add_argument("--unit-timeout", type=float, default=300.0, help="seconds per host/Python test program")
    ap.add_argument("--list", action="store_true", help="list boot cases and exit")
    ap.add_argument("--py-worker", metavar="FILE", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.py_worker:
        return py_worker(a.py_worker)
    if a.list:
        for c in boot_cases.CASES:
            env = " ".join(f"{k}={v}" for k, v in c.env.items())
            print(f"{c.name:22} {c.cmdline!r:28} {env:34} timeout={c.timeout_s:g}s expect={c.expect.verdict}")
        return 0

    sys.stdout.reconfigure(line_buffering=True)
    signal.signal(signal.SIGTERM, _on_sigterm)
    py_files = a.py if a.py is not None else sorted(glob.glob(str(ROOT / "tests" / "host" / "test_*.py")))
    res = Results()
    t0 = time.monotonic()
    ran = 0
    try:
        ran += run_host_tests(res, a.host, a.only, a.unit_timeout)
        ran += run_python_tests(res, py_files, a.only, a.unit_timeout)
        ran += run_accel_checks(res, a.only)
        ran += run_boots(res, a.boot, Path(a.logdir), a.only, a.jobs)
    except KeyboardInterrupt:
        _kill_all_live()
        print("run_tests: interrupted", file=sys.stderr)
        print(f"{res.passed} passed, {res.failed + 1} failed")
        return 1
    finally:
        _kill_all_live()

    if ran == 0:
        print(f"run_tests: nothing matched --only {' '.join(a.only)}" if a.only else "run_tests: nothing to run",
              file=sys.stderr)
        print(f"{res.passed} passed, {res.failed} failed")
        return 2
    print(f"run_tests: {time.monotonic() - t0:.1f} s")
    print(f"{res.passed} passed, {res.failed} failed")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())

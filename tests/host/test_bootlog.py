"""Unit tests for scripts/bootlog.py, fed synthetic serial logs.

Most cases here are ways a boot can *look* fine while not being fine; each must read as failed.
Run: python3 -m unittest tests/host/test_bootlog.py
"""

import contextlib
import io
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import bootlog  # noqa: E402

PREAMBLE = (
    "tachyon: booting\n"
    "mem: 0x0000000000000000-0x000000000009fbff usable\n"
    "tsc: invariant, 2994.3 MHz (cpuid 0x15)\n"
    "tachyon: ready in 12345 us\n"
)

CLEAN = PREAMBLE + (
    "TEST PASS mm.buddy_alloc\n"
    "TEST PASS mm.slab_reuse\n"
    "TEST PASS ipc.call_reply\n"
    "TEST DONE passed=3 failed=0\n"
)

PF_LOG = PREAMBLE + (
    "test: fault: touching 0xdead0000\n"
    "EXCEPTION #PF (vector 14) err=0x2 rip=0xffffffff80104a2c addr=0x00000000dead0000\n"
    "  rax=0x0000000000000000 rbx=0x0000000000000001 rcx=0x0 rdx=0x0\n"
    "  cr2=0x00000000dead0000 cr3=0x0000000000101000\n"
    "PANIC: unhandled exception in kernel mode\n"
)


class CleanBoot(unittest.TestCase):
    def test_clean_pass(self):
        r = bootlog.parse(CLEAN, 33)
        self.assertEqual(r.verdict, "passed", r.problems)
        self.assertTrue(r.passed)
        self.assertEqual(r.reason, "")
        self.assertEqual(len(r.tests), 3)
        self.assertTrue(all(t.passed for t in r.tests))
        self.assertEqual(r.tests[0], ("mm.buddy_alloc", True, ""))
        self.assertTrue(r.done and r.counts_agree)
        self.assertEqual(r.ready_us, 12345)
        self.assertIsNone(r.exception)
        self.assertEqual(r.cmdline_errors, [])

    def test_crlf_ansi_and_nul_noise_still_pass(self):
        noisy = "\x1b[2J\x1b[H" + CLEAN.replace("\n", "\r\n").replace("TEST PASS mm.slab", "\x00TEST PASS mm.slab")
        r = bootlog.parse(noisy.encode(), 33)
        self.assertEqual(r.verdict, "passed", r.problems)
        self.assertEqual(r.ready_us, 12345)

    def test_invalid_utf8_does_not_crash(self):
        r = bootlog.parse(b"\xff\xfe garbage\n" + CLEAN.encode(), 33)
        self.assertTrue(r.passed, r.problems)


class Failures(unittest.TestCase):
    def test_failing_test(self):
        log = PREAMBLE + (
            "TEST PASS mm.buddy_alloc\n"
            "TEST FAIL mm.slab_reuse: expected 4 got 5 (slab.c:88)\n"
            "TEST DONE passed=1 failed=1\n"
        )
        r = bootlog.parse(log, 35)
        self.assertEqual(r.verdict, "failed")
        self.assertEqual(r.failed_tests, [("mm.slab_reuse", False, "expected 4 got 5 (slab.c:88)")])
        self.assertIn("mm.slab_reuse", r.reason)
        self.assertTrue(r.counts_agree)
        self.assertTrue(r.only_test_failures)

    def test_fail_without_reason(self):
        r = bootlog.parse(PREAMBLE + "TEST FAIL a.b\nTEST DONE passed=0 failed=1\n", 35)
        self.assertEqual(r.tests, [("a.b", False, "no reason given")])

    def test_panic_page_fault(self):
        r = bootlog.parse(PF_LOG, 37)
        self.assertEqual(r.verdict, "failed")
        self.assertEqual(r.exception.mnemonic, "#PF")
        self.assertEqual(r.exception.vector, 14)
        self.assertEqual(r.exception.rip, "0xffffffff80104a2c")
        self.assertEqual(r.exception.addr, "0x00000000dead0000")
        self.assertEqual(r.panic, "unhandled exception in kernel mode")
        self.assertEqual(r.reason, "panic: #PF at rip=0xffffffff80104a2c addr=0x00000000dead0000")
        self.assertFalse(r.only_test_failures)

    def test_panic_page_fault_kernel_format(self):
        # Verbatim from a Tachyon boot with test=fault.
        log = PREAMBLE + (
            "EXCEPTION #PF page fault (vector 14) error=0x2 rip=0xffffffff80107550 addr=0xdead000 "
            "[not present, write, kernel] ring=0\n"
            "  rax=0000000000000001 rbx=0000000000000000 rcx=0000000000000005 rdx=0000000000000005\n"
            "  rip=ffffffff80107550 cs=0008 rflags=00000202 ss=0010\n"
            "  cr0=0000000080010011 cr2=000000000dead000 cr3=0000000000183000 cr4=00000000000000a0\n"
            "PANIC: unhandled exception #PF at rip=0xffffffff80107550\n"
        )
        r = bootlog.parse(log, 37)
        self.assertEqual((r.exception.mnemonic, r.exception.vector), ("#PF", 14))
        self.assertEqual(r.reason, "panic: #PF at rip=0xffffffff80107550 addr=0xdead000")

    def test_panic_details_from_register_dump(self):
        log = PREAMBLE + (
            "EXCEPTION #PF (vector 14) err=0x0\n"
            "  rip=ffffffff80100010 rsp=ffffffff80200000\n"
            "  cr2=0000000000000008\n"
            "PANIC: page fault\n"
        )
        r = bootlog.parse(log, 37)
        self.assertEqual(r.exception.rip, "0xffffffff80100010")
        self.assertEqual(r.exception.addr, "0x0000000000000008")
        self.assertIn("addr=0x0000000000000008", r.reason)

    def test_gp_does_not_borrow_cr2_as_address(self):
        log = PREAMBLE + (
            "EXCEPTION #GP (vector 13) err=0x0 rip=0xffffffff80100020\n"
            "  cr2=0x0000000000001234\n"
            "PANIC: general protection\n"
        )
        r = bootlog.parse(log, 37)
        self.assertIsNone(r.exception.addr)
        self.assertEqual(r.reason, "panic: #GP at rip=0xffffffff80100020")

    def test_panic_even_after_all_tests_passed(self):
        r = bootlog.parse(CLEAN + "PANIC: idle thread returned\n", 33)
        self.assertEqual(r.verdict, "failed")
        self.assertEqual(r.reason, "panic: idle thread returned")

    def test_exit_37_without_panic_line(self):
        r = bootlog.parse(PREAMBLE + "TEST PASS a.b\n", 37)
        self.assertEqual(r.verdict, "failed")
        self.assertTrue(r.reason.startswith("panic"), r.reason)

    def test_triple_fault_exit_0(self):
        r = bootlog.parse(PREAMBLE + "TEST PASS a.b\n", 0)
        self.assertEqual(r.verdict, "failed")
        self.assertEqual(r.reason, "triple fault / reset (exit 0)")

    def test_triple_fault_after_done_still_fails(self):
        r = bootlog.parse(CLEAN, 0)
        self.assertEqual(r.reason, "triple fault / reset (exit 0)")

    def test_cmdline_error(self):
        log = PREAMBLE.replace(
            "tachyon: ready", "cmdline: error: unknown option 'frobnicate'\ntachyon: ready"
        ) + (
            "TEST FAIL boot.cmdline: 1 bad option(s)\n"
            "TEST PASS mm.buddy_alloc\n"
            "TEST DONE passed=1 failed=1\n"
        )
        r = bootlog.parse(log, 35)
        self.assertEqual(r.verdict, "failed")
        self.assertEqual(r.cmdline_errors, ["unknown option 'frobnicate'"])
        self.assertTrue(any("frobnicate" in p for p in r.problems))

    def test_cmdline_error_alone_fails_even_if_kernel_claims_success(self):
        log = "cmdline: error: unknown option 'frobnicate'\n" + CLEAN
        r = bootlog.parse(log, 33)
        self.assertEqual(r.verdict, "failed")
        self.assertIn("frobnicate", r.reason)


class TruncationAndLoss(unittest.TestCase):
    def test_truncated_log_no_done(self):
        log = PREAMBLE + "TEST PASS mm.buddy_alloc\nTEST PASS mm.sl"
        r = bootlog.parse(log, 33)
        self.assertEqual(r.verdict, "failed")
        self.assertFalse(r.done)
        self.assertIn("truncated", r.reason)
        self.assertEqual([t.name for t in r.tests], ["mm.buddy_alloc"])

    def test_done_line_cut_off_is_not_trusted(self):
        # "passed=1" could be the first digit of "passed=12".
        log = PREAMBLE + "TEST PASS a.b\nTEST DONE passed=1 failed=0"
        r = bootlog.parse(log, 33)
        self.assertEqual(r.verdict, "failed")
        self.assertFalse(r.done)

    def test_empty_log(self):
        for status in (33, 0, None):
            r = bootlog.parse("", status)
            self.assertEqual(r.verdict, "failed", status)

    def test_lost_pass_line_is_count_mismatch(self):
        log = CLEAN.replace("TEST PASS mm.slab_reuse\n", "")
        r = bootlog.parse(log, 33)
        self.assertEqual(r.verdict, "failed")
        self.assertFalse(r.counts_agree)
        self.assertTrue(r.reason.startswith("count mismatch"), r.reason)

    def test_lost_fail_line_is_count_mismatch(self):
        log = CLEAN.replace("TEST DONE passed=3 failed=0", "TEST DONE passed=3 failed=1")
        r = bootlog.parse(log, 35)
        self.assertEqual(r.verdict, "failed")
        self.assertTrue(r.reason.startswith("count mismatch"), r.reason)

    def test_garbled_test_line_is_not_a_pass(self):
        log = CLEAN.replace("TEST PASS mm.slab_reuse", "TEST PAS\x7fS mm.slab_reuse")
        r = bootlog.parse(log, 33)
        self.assertEqual(r.verdict, "failed")
        self.assertTrue(r.malformed)

    def test_interleaved_lines_are_not_a_pass(self):
        log = CLEAN.replace(
            "TEST PASS mm.slab_reuse\nTEST PASS ipc.call_reply\n",
            "TEST PASS mm.slab_reuseTEST PASS ipc.call_reply\n",
        )
        r = bootlog.parse(log, 33)
        self.assertEqual(r.verdict, "failed")

    def test_no_tests_ran(self):
        r = bootlog.parse(PREAMBLE + "TEST DONE passed=0 failed=0\n", 33)
        self.assertEqual(r.verdict, "failed")
        self.assertIn("no tests ran", r.reason)


class TimeoutsAndExitStatus(unittest.TestCase):
    def test_timeout_is_a_hang(self):
        r = bootlog.parse(PREAMBLE + "test: hang: spinning with interrupts off\n", None, timed_out=True, timeout_s=60)
        self.assertEqual(r.verdict, "failed")
        self.assertEqual(r.reason, "hang: no DONE after 60 s")
        self.assertEqual(r.last_line, "test: hang: spinning with interrupts off")

    def test_timeout_after_done_is_still_a_hang(self):
        r = bootlog.parse(CLEAN, None, timed_out=True, timeout_s=10)
        self.assertEqual(r.verdict, "failed")
        self.assertTrue(r.reason.startswith("hang"), r.reason)

    def test_all_pass_but_exit_35(self):
        r = bootlog.parse(CLEAN, 35)
        self.assertEqual(r.verdict, "failed")
        self.assertIn("exit status 35", r.reason)
        self.assertFalse(r.only_test_failures)

    def test_failures_but_exit_33(self):
        log = PREAMBLE + "TEST FAIL a.b: x\nTEST DONE passed=0 failed=1\n"
        r = bootlog.parse(log, 33)
        self.assertEqual(r.verdict, "failed")
        self.assertIn("a.b", r.reason)

    def test_qemu_error_exit_1(self):
        r = bootlog.parse("", 1)
        self.assertEqual(r.verdict, "failed")
        self.assertTrue(r.reason.startswith("exit status 1"), r.reason)

    def test_qemu_sh_refusal_exit_2(self):
        r = bootlog.parse("", 2)
        self.assertEqual(r.reason, "exit status 2 (qemu.sh refused)")

    def test_killed_by_signal(self):
        r = bootlog.parse(CLEAN, -9)
        self.assertEqual(r.verdict, "failed")
        self.assertIn("SIGKILL", r.reason)

    def test_no_exit_status(self):
        r = bootlog.parse(CLEAN, None)
        self.assertEqual(r.verdict, "failed")


class Duplicates(unittest.TestCase):
    def test_duplicate_done(self):
        r = bootlog.parse(CLEAN + CLEAN[len(PREAMBLE):], 33)
        self.assertEqual(r.verdict, "failed")
        self.assertEqual(r.done_lines, 2)
        self.assertIn("duplicate TEST DONE", r.reason)

    def test_duplicate_done_from_reboot_loop(self):
        r = bootlog.parse(CLEAN + CLEAN, 33)
        self.assertEqual(r.verdict, "failed")
        self.assertIn("duplicate TEST DONE", r.reason)

    def test_duplicate_test_line_with_matching_counts(self):
        log = PREAMBLE + "TEST PASS a.b\nTEST PASS a.b\nTEST DONE passed=2 failed=0\n"
        r = bootlog.parse(log, 33)
        self.assertEqual(r.verdict, "failed")
        self.assertIn("duplicate TEST lines", r.reason)

    def test_test_line_after_done(self):
        r = bootlog.parse(CLEAN + "TEST FAIL late.one: oops\n", 33)
        self.assertEqual(r.verdict, "failed")


class CommandLine(unittest.TestCase):
    def _run(self, text, *args):
        with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
            f.write(text)
        try:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                rc = bootlog.main([f.name, *args])
            return rc, out.getvalue()
        finally:
            os.unlink(f.name)

    def test_cli_pass_and_fail(self):
        rc, out = self._run(CLEAN, "--exit", "33")
        self.assertEqual(rc, 0)
        self.assertIn("passed (3 tests)", out)
        rc, out = self._run(PF_LOG, "--exit", "37")
        self.assertEqual(rc, 1)
        self.assertIn("#PF", out)

    def test_cli_json(self):
        rc, out = self._run(CLEAN, "--exit", "33", "--json")
        self.assertEqual(rc, 0)
        self.assertIn('"verdict": "passed"', out)


if __name__ == "__main__":
    unittest.main()

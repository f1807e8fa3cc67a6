"""Unit tests for boots with more than one BENCH-JSON block (scripts/bench_extract.py): the
kernel's block followed by ubench's user-space one, merged into one document per boot, and what
the report makes of the user-space rows (K-1, K-9, the peer table). Synthetic logs, no QEMU.
Run: python3 -m unittest tests/host/test_bench_extract.py
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_bench_scripts as base  # noqa: E402  (its fixtures; also puts scripts/ on the path)
import bench  # noqa: E402
import bench_report  # noqa: E402
import targets  # noqa: E402

USER_BENCHES = {
    "syscall/null": (71, "K-1"),
    "syscall/nop_baseline": (6, None),
    "yield/same_as": (239.5, None),
    "process/spawn": (79_000, "K-9"),
    "process/spawn_wait": (103_474, "K-9"),
}


def ubench_doc(benches=USER_BENCHES, reps=3):
    d = base.kernel_doc(benches, reps)
    d["context"] = {"library": "tachyon-libbench", "harness": "ubench", "space": "user (ring 3)",
                    "pid": "1", "clock": "lfence; rdtsc; lfence in ring 3", "timer_overhead_ticks": 7,
                    "ticks_hz": 1_000_000_000}
    return d


def block(doc):
    return "BENCH-JSON-BEGIN\n" + base.json.dumps(doc, indent=2) + "\nBENCH-JSON-END\n"


def two_block_log(kernel=None, user=None, between="", post="bench: done, 0 error(s)\n"):
    kdoc = kernel or base.kernel_doc()
    kdoc["context"]["harness"] = "kernel"
    return base.PREAMBLE + block(kdoc) + between + block(user or ubench_doc()) + post


class Blocks(unittest.TestCase):
    def test_kernel_and_ubench_merged(self):
        x = bench.extract(two_block_log())
        self.assertTrue(x.ok, x.error)
        self.assertEqual(x.blocks, 2)
        ctx = x.doc["context"]
        self.assertEqual(ctx["commit"], "abc1234")  # the kernel's context stays on top
        self.assertEqual(ctx["harnesses"], ["kernel", "ubench"])
        self.assertEqual(ctx["ubench"]["timer_overhead_ticks"], 7)
        names = {b["name"]: b["harness"] for b in bench.iterations(x.doc)}
        self.assertEqual(names["frame_alloc/order:0"], "kernel")
        self.assertEqual(names["syscall/null"], "ubench")
        self.assertEqual(len(bench.iterations(x.doc)), 3 * (len(base.BENCHES) + len(USER_BENCHES)))

    def test_any_number_of_blocks(self):
        third = ubench_doc({"ipc/call": (300, None)})
        third["context"]["harness"] = "ipcbench"
        x = bench.extract(two_block_log(post=block(third)))
        self.assertTrue(x.ok, x.error)
        self.assertEqual(x.doc["context"]["harnesses"], ["kernel", "ubench", "ipcbench"])

    def test_only_user_benchmarks_selected(self):
        # bench=syscall/null: the kernel's block is empty, ubench's holds the figure.
        x = bench.extract(two_block_log(kernel={"context": {}, "benchmarks": []},
                                        user=ubench_doc({"syscall/null": (71, "K-1")})))
        self.assertTrue(x.ok, x.error)
        self.assertEqual({b["name"] for b in bench.iterations(x.doc)}, {"syscall/null"})
        p, _, _ = bench.judge(two_block_log(kernel={"context": {}, "benchmarks": []}), 33, False, 60)
        self.assertEqual(p, [])

    def test_user_block_truncated(self):
        log = two_block_log()
        log = log[: log.rindex("BENCH-JSON-END") - 100]
        x = bench.extract(log)
        self.assertFalse(x.ok)
        self.assertTrue(x.error.startswith("block 2 of 2: truncated"), x.error)
        self.assertIn('"benchmarks"', x.text)  # the broken block, kept for inspection

    def test_begin_without_end_before_the_next_begin(self):
        log = two_block_log().replace("BENCH-JSON-END\n", "", 1)
        x = bench.extract(log)
        self.assertIn("block 1 of 2: truncated: BENCH-JSON-BEGIN without BENCH-JSON-END before the next",
                      x.error)

    def test_invalid_user_block(self):
        x = bench.extract(two_block_log(user={"context": {"harness": "ubench"}}))
        self.assertEqual(x.error, 'block 2 of 2: JSON has no "benchmarks" array')
        self.assertIsNone(x.doc)

    def test_name_in_both_blocks_refused(self):
        x = bench.extract(two_block_log(user=ubench_doc({"frame_alloc/order:0": (1, None)})))
        self.assertEqual(x.error, "benchmark 'frame_alloc/order:0' is reported by both kernel and ubench")

    def test_restart_between_blocks(self):
        log = two_block_log(between=base.PREAMBLE)
        self.assertIn("the kernel restarted", bench.extract(log).error)

    def test_user_errors_counted_and_judged(self):
        user = block(ubench_doc()).split("\n")
        user.insert(3, "bench: error: 'yield/cross_as' failed: yielder ended with status 512")
        log = base.PREAMBLE + block(base.kernel_doc()) + "\n".join(user) + "bench: ubench reported 1 error(s) above\n"
        p, x, _ = bench.judge(log, 35, False, 60)
        self.assertTrue(x.ok, x.error)
        self.assertEqual(x.bench_errors, ["'yield/cross_as' failed: yielder ended with status 512"])
        self.assertIn("exit status 35 (benchmark errors)", p)

    def test_error_line_after_a_token_keeps_the_json(self):
        # libbench reports between tokens; the harnesses start the message on a new line.
        log = two_block_log().replace('"benchmarks": [', '"benchmarks": [\nbench: error: x', 1)
        x = bench.extract(log)
        self.assertTrue(x.ok, x.error)
        self.assertEqual(x.bench_errors, ["x"])


def merged_two_blocks(boots=2):
    raws = []
    for k in range(1, boots + 1):
        doc = bench.extract(two_block_log()).doc
        doc["context"].update(base.HOST, variant="base", boot=k, ready_us=4321)
        raws.append(("base", k, doc))
    return bench.merge(raws, {"run_id": "t"})


class Report(unittest.TestCase):
    def test_merge_keeps_harness_and_user_context(self):
        m = merged_two_blocks()
        null = [b for b in m["benchmarks"] if b["name"] == "base/syscall/null"]
        self.assertEqual(len(null), 6)
        self.assertTrue(all(b["harness"] == "ubench" for b in null))
        self.assertEqual(m["context"]["ubench"]["space"], "user (ring 3)")

    def test_k1_and_k9_rows(self):
        doc = merged_two_blocks()
        series = bench_report.collect(doc)
        v = {t.id: bench_report.evaluate(t, doc, series) for t in targets.ROWS}
        self.assertEqual(v["K-1"].benchmark, "`base/syscall/null`")
        self.assertEqual(v["K-1"].median, "71 instructions")
        self.assertEqual(v["K-1"].verdict, "missed")  # ~ 50 ns: at most 62.5
        self.assertEqual(v["K-9"].benchmark, "`base/process/spawn`<br>`base/process/spawn_wait`")
        self.assertEqual(v["K-9"].verdict, "missed")  # 103,474 >= 100 us read as instructions

    def test_peer_rows(self):
        text = bench_report.report(merged_two_blocks())
        self.assertIn("| null system call | 100 | 342 | 65 (`base/syscall/null` − `base/syscall/nop_baseline`) "
                      "| 0.65x | 0.19x |", text)
        self.assertIn("| yield | 293 | sched_yield switch 2,126 | 240 (`base/yield/same_as`) |", text)
        self.assertIn("| harness ubench | user (ring 3), pid 1; timer overhead 7 ticks;", text)

    def test_peer_baseline_missing(self):
        doc = merged_two_blocks()
        doc["benchmarks"] = [b for b in doc["benchmarks"] if "nop_baseline" not in b["name"]]
        text = bench_report.report(doc)
        self.assertIn("not yet measured: `base/syscall/null` without its baseline `syscall/nop_baseline`", text)


if __name__ == "__main__":
    unittest.main()

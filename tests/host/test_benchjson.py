"""End-to-end check of libbench's JSON: builds a small host program that runs libbench with a fake
clock, parses what it prints with Python's json module, recomputes the statistics from the raw
samples, and, where Google Benchmark's compare.py is installed (Debian: libbenchmark-tools, plus
python3-scipy and python3-numpy), checks that compare.py accepts two such files unchanged.

Run: python3 -m unittest tests/host/test_benchjson.py
"""

import glob
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

# Fake clock: 7 ticks per read, operations cost their arg plus a deterministic jitter; argv[1]
# scales every cost (so a second file can be "2x slower"), argv[2] is the repetition count,
# argv[3] the filter and argv[4] the sample capacity.
DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "libbench/libbench.h"

static uint64_t now, scale = 1, lcg = 12345;

static uint64_t fake_clock(void)
{
    now += 7;
    return now;
}

static uint64_t jitter(void)
{
    lcg = lcg * 6364136223846793005u + 1442695040888963407u;
    return (lcg >> 33) % 16;
}

static void bm_op(struct lb_state *s)
{
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        now += lb_arg(s) * scale + jitter();
        lb_stop(s, t);
        now += 500;
    }
}

static void bm_batch(struct lb_state *s)
{
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        now += 8 * (lb_arg(s) * scale) + jitter();
        lb_stop_batch(s, t, 8);
    }
}

LB_BENCHMARK_ARG("null_op", bm_op, 50, "K-1", "an operation of 50 ticks");
LB_BENCHMARK_ARG("frame_alloc/order:0", bm_op, 400, "K-5", "a \"frame\" of 400 ticks");
LB_BENCHMARK_ARG("batch/add", bm_batch, 3, NULL, "3 ticks, timed 8 at a time");
LB_BENCHMARK_ARG("long_tail", bm_op, 2, NULL, "short: many samples");

static void out(void *ctx, const char *s, size_t n)
{
    fwrite(s, 1, n, ctx);
}

static void err(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "%s\n", msg);
}

int main(int argc, char **argv)
{
    static uint64_t buf[1 << 16];
    static const struct lb_kv kv[] = {{"commit", "test"}, {"mode", "fake"}};
    struct lb_env env;
    lb_env_init(&env);
    scale = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
    env.clock = fake_clock;
    env.ticks_hz = 2500000000u;
    env.samples = buf;
    env.capacity = argc > 4 ? strtoull(argv[4], NULL, 10) : 4096;
    env.repetitions = argc > 2 ? (unsigned)atoi(argv[2]) : 5;
    env.min_ticks = 200000;
    env.out = out;
    env.out_ctx = stdout;
    env.error = err;
    env.context = kv;
    env.ncontext = 2;
    return lb_run(&env, argc > 3 ? argv[3] : "all");
}
"""

COMPARE_CANDIDATES = ["/usr/share/benchmark/compare.py"] + glob.glob("/usr/share/*/compare.py")


def nearest_rank(sorted_vals, permille):
    rank = max(1, -(-len(sorted_vals) * permille // 1000))
    return sorted_vals[rank - 1]


class BenchJson(unittest.TestCase):
    tmp = None
    exe = None

    @classmethod
    def setUpClass(cls):
        cc = os.environ.get("HOST_CC", "cc")
        if shutil.which(cc) is None:
            raise unittest.SkipTest(f"no C compiler ({cc})")
        cls.tmp = tempfile.mkdtemp(prefix="benchjson-")
        src = os.path.join(cls.tmp, "driver.c")
        with open(src, "w") as f:
            f.write(DRIVER)
        cls.exe = os.path.join(cls.tmp, "driver")
        sources = sorted(glob.glob(os.path.join(ROOT, "bench", "libbench", "*.c")))
        cmd = [cc, "-std=gnu11", "-O1", "-Wall", "-Wextra", "-Werror",
               "-I" + os.path.join(ROOT, "kernel"), "-I" + os.path.join(ROOT, "bench"),
               "-o", cls.exe, src, *sources, os.path.join(ROOT, "kernel", "lib", "fmt.c")]
        subprocess.run(cmd, check=True, capture_output=True, text=True)

    @classmethod
    def tearDownClass(cls):
        if cls.tmp:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_driver(self, *args, expect_rc=0):
        p = subprocess.run([self.exe, *map(str, args)], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, expect_rc, p.stderr)
        return json.loads(p.stdout), p.stderr

    def test_context(self):
        doc, _ = self.run_driver(1, 5)
        ctx = doc["context"]
        self.assertEqual(ctx["library"], "tachyon-libbench")
        self.assertEqual(ctx["commit"], "test")
        self.assertEqual(ctx["mode"], "fake")
        self.assertEqual(ctx["ticks_hz"], 2500000000)
        self.assertEqual(ctx["timer_overhead_ticks"], 7)
        self.assertEqual(ctx["repetitions"], 5)
        self.assertEqual(ctx["samples_json_max"], 2000)

    def test_iteration_entries_match_their_samples(self):
        doc, _ = self.run_driver(1, 5)
        iters = [b for b in doc["benchmarks"] if b["run_type"] == "iteration"]
        names = {b["name"] for b in iters}
        self.assertEqual(names, {"null_op", "frame_alloc/order:0", "batch/add", "long_tail"})
        for b in iters:
            with self.subTest(name=b["name"], rep=b["repetition_index"]):
                for key in ("family_index", "per_family_instance_index", "run_name",
                            "repetitions", "repetition_index", "threads", "iterations",
                            "real_time", "cpu_time", "time_unit"):
                    self.assertIn(key, b)
                self.assertEqual(b["time_unit"], "ns")
                self.assertEqual(b["threads"], 1)
                self.assertEqual(b["run_name"], b["name"])
                batch = b["ops_per_sample"]
                n = b["samples_total"]
                self.assertEqual(b["iterations"], n * batch)
                samples = b["samples"]
                self.assertEqual(len(samples), min(n, 2000))
                # real_time is ticks_mean converted at 2.5 GHz, floored to 0.001 ns
                self.assertAlmostEqual(b["real_time"], b["ticks_mean"] / 2.5, delta=0.0015)
                self.assertEqual(b["cpu_time"], b["real_time"])
                if n <= 2000:  # all samples present: recompute everything
                    s = sorted(samples)
                    tol = 0.0011 if batch > 1 else 0
                    self.assertAlmostEqual(b["ticks_min"], s[0], delta=tol)
                    self.assertAlmostEqual(b["ticks_max"], s[-1], delta=tol)
                    for key, pm in (("ticks_median", 500), ("ticks_p90", 900),
                                    ("ticks_p99", 990), ("ticks_p999", 999)):
                        self.assertAlmostEqual(b[key], nearest_rank(s, pm), delta=tol)
                    self.assertAlmostEqual(b["ticks_mean"], statistics.fmean(s), delta=0.0011)
                    if n > 1:
                        self.assertAlmostEqual(b["ticks_stddev"], statistics.stdev(s),
                                               delta=0.0011 * max(1, batch))
        frame = [b for b in iters if b["name"] == "frame_alloc/order:0"]
        self.assertEqual([b["repetition_index"] for b in frame], [0, 1, 2, 3, 4])
        self.assertEqual(frame[0]["target"], "K-5")
        self.assertEqual(frame[0]["description"], 'a "frame" of 400 ticks')
        self.assertTrue(all(400 <= x < 416 for x in frame[0]["samples"]))
        tail = [b for b in iters if b["name"] == "long_tail"][0]
        self.assertGreater(tail["samples_total"], 2000)  # thinned to 2000 in the file
        batch = [b for b in iters if b["name"] == "batch/add"][0]
        self.assertEqual(batch["ops_per_sample"], 8)
        self.assertTrue(all(3 <= x < 5 for x in batch["samples"]))

    def test_aggregates(self):
        doc, _ = self.run_driver(1, 5)
        for name in ("null_op", "frame_alloc/order:0", "batch/add", "long_tail"):
            with self.subTest(name=name):
                reps = [b["real_time"] for b in doc["benchmarks"]
                        if b["name"] == name and b["run_type"] == "iteration"]
                aggs = {b["aggregate_name"]: b for b in doc["benchmarks"]
                        if b["run_type"] == "aggregate" and b["run_name"] == name}
                self.assertEqual(set(aggs), {"mean", "median", "stddev"})
                for agg, b in aggs.items():
                    self.assertEqual(b["name"], f"{name}_{agg}")
                    self.assertEqual(b["aggregate_unit"], "time")
                    self.assertEqual(b["iterations"], 5)
                    self.assertNotIn("repetition_index", b)
                self.assertAlmostEqual(aggs["mean"]["real_time"], statistics.fmean(reps),
                                       delta=0.002)
                self.assertAlmostEqual(aggs["median"]["real_time"], statistics.median(reps),
                                       delta=0.002)
                self.assertAlmostEqual(aggs["stddev"]["real_time"], statistics.stdev(reps),
                                       delta=0.002)

    def test_filter_errors(self):
        doc, err = self.run_driver(1, 2, "null_op,frame_*,nope", expect_rc=1)
        self.assertIn("bench: unknown benchmark 'nope' (known: ", err)
        names = {b["run_name"] for b in doc["benchmarks"]}
        self.assertEqual(names, {"null_op", "frame_alloc/order:0"})
        single, _ = self.run_driver(1, 1, "null_op")
        self.assertEqual([b["run_type"] for b in single["benchmarks"]], ["iteration"])

    def test_compare_py_accepts_files(self):
        compare = next((c for c in COMPARE_CANDIDATES if os.path.isfile(c)), None)
        if compare is None:
            self.skipTest("Google Benchmark's compare.py not installed (libbenchmark-tools)")
        # The interpreter running this test may be a private one (pyenv, venv) without Debian's
        # scipy; compare.py runs under whichever candidate has it.
        python = None
        for cand in dict.fromkeys([sys.executable, "/usr/bin/python3"]):
            probe = subprocess.run([cand, "-c", "import numpy, scipy.stats"],
                                   capture_output=True, timeout=60)
            if probe.returncode == 0:
                python = cand
                break
        if python is None:
            self.skipTest("compare.py needs python3-numpy and python3-scipy")
        files = []
        for scale in (1, 2):
            doc, _ = self.run_driver(scale, 9)
            path = os.path.join(self.tmp, f"run{scale}.json")
            with open(path, "w") as f:
                json.dump(doc, f)
            files.append(path)
        p = subprocess.run([python, compare, "--no-color", "benchmarks", *files],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        lines = p.stdout.splitlines()
        for name in ("null_op", "frame_alloc/order:0_mean", "batch/add_median", "OVERALL_GEOMEAN"):
            self.assertTrue(any(ln.startswith(name) for ln in lines), p.stdout)
        # every cost doubled: the mean aggregate must read about +1.0 (jitter is tiny)
        mean_line = next(ln for ln in lines if ln.startswith("frame_alloc/order:0_mean"))
        change = float(mean_line.split()[1])
        self.assertTrue(math.isclose(change, 1.0, abs_tol=0.05), mean_line)
        self.assertIn("U Test", p.stdout)


if __name__ == "__main__":
    unittest.main()

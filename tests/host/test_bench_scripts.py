"""Unit tests for the host side of `make bench`, fed synthetic serial logs and JSON (no QEMU).

Covers scripts/bench.py (extraction, boot verdicts, merging, and a whole `run` against a fake
QEMU), scripts/bench_report.py (CSV rows, target verdicts), scripts/compare.py (exit statuses),
scripts/bench_plot.py, and that Google's own compare.py accepts our merged files.
Run: python3 -m unittest tests/host/test_bench_scripts.py
"""

import copy
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))
import bench  # noqa: E402  (scripts/bench.py; bench/ has no __init__.py, so the module wins)
import bench_report  # noqa: E402
import matrix  # noqa: E402
import targets  # noqa: E402

DEBIAN_PY = "/usr/bin/python3"
GOOGLE_COMPARE = Path("/usr/share/benchmark/compare.py")


def _has(py: str, *mods: str) -> bool:
    if not os.access(py, os.X_OK):
        return False
    code = "import " + ", ".join(mods)
    return subprocess.run([py, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


HAVE_SCIPY = _has(sys.executable, "scipy") or _has(DEBIAN_PY, "scipy")
HAVE_MPL = _has(sys.executable, "numpy", "matplotlib") or _has(DEBIAN_PY, "numpy", "matplotlib")

# name -> (per-operation ticks, target tag)
BENCHES = {
    "frame_alloc/order:0": (412, "K-5"),
    "slab_alloc/size:64": (700, "K-6"),
    "timer_overhead": (25, None),
}


def entry(name, rep, reps, ticks, target, nsamples=50, spread=0):
    samples = [ticks + (i % (spread + 1)) for i in range(nsamples)]
    s = sorted(samples)
    e = {
        "name": name, "family_index": 0, "per_family_instance_index": 0, "run_name": name,
        "run_type": "iteration", "repetitions": reps, "repetition_index": rep, "threads": 1,
        "iterations": nsamples, "real_time": float(ticks), "cpu_time": float(ticks), "time_unit": "ns",
        "ticks_mean": statistics.fmean(s), "ticks_min": s[0], "ticks_median": statistics.median(s),
        "ticks_p90": s[int(0.9 * (len(s) - 1))], "ticks_p99": s[int(0.99 * (len(s) - 1))],
        "ticks_p999": s[-1], "ticks_max": s[-1], "ticks_stddev": statistics.pstdev(s), "samples": samples,
    }
    if target:
        e["target"] = target
    return e


def kernel_doc(benches=BENCHES, reps=3, commit="abc1234", spread=0, samples=True):
    out = []
    for name, (ticks, tgt) in benches.items():
        es = [entry(name, r, reps, ticks, tgt, spread=spread) for r in range(reps)]
        if not samples:
            for e in es:
                del e["samples"]
        out += es
        for agg in ("mean", "median", "stddev"):  # the kernel's own per-boot aggregates
            out.append({"name": f"{name}_{agg}", "run_name": name, "run_type": "aggregate",
                        "aggregate_name": agg, "repetitions": reps, "threads": 1, "iterations": reps,
                        "real_time": float(ticks), "cpu_time": float(ticks), "time_unit": "ns"})
    return {"context": {"commit": commit, "cpu": "QEMU TCG CPU", "tsc_source": "cpuid 0x15",
                        "tsc_hz": 1_000_000_000, "ticks_hz": 1_000_000_000, "timer_overhead_ticks": 25,
                        "cmdline": "bench=all"},
            "benchmarks": out}


PREAMBLE = ("tachyon abc1234: booting\ncmdline: \"bench=all\"\n"
            "tsc: 1000.000 MHz from cpuid 0x15, invariant yes\n"
            "tachyon: ready in 4321 us (4321000 TSC ticks since kernel entry), 30000 frames free\n")


def serial_log(doc, pre=PREAMBLE, post="bench: done\n"):
    return pre + "BENCH-JSON-BEGIN\n" + json.dumps(doc, indent=2) + "\nBENCH-JSON-END\n" + post


HOST = {"mode": "icount", "unit": "instructions", "accel": "tcg", "qemu_cpu": "max",
        "qemu_version": "QEMU emulator version 7.2.22", "host_cpu": "Test CPU", "run_id": "test-run",
        "kernel_size": {"elf": "build/kernel.elf", "text": 40_000, "data": 1_000, "bss": 8_000,
                        "text_data": 41_000}}


def raw_doc(variant="base", boot=1, host=HOST, **kw):
    d = kernel_doc(**kw)
    d["context"].update(host, variant=variant, boot=boot, ready_us=4321)
    return d


def merged(host=HOST, boots=2, **kw):
    return bench.merge([("base", k, raw_doc("base", k, host, **kw)) for k in range(1, boots + 1)],
                       {"run_id": host.get("run_id")})


def run_py(script, *args, **kw):
    return subprocess.run([sys.executable, str(ROOT / "scripts" / script), *map(str, args)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120, **kw)


class Extraction(unittest.TestCase):
    def test_good(self):
        x = bench.extract(serial_log(kernel_doc()))
        self.assertTrue(x.ok, x.error)
        self.assertEqual(len(bench.iterations(x.doc)), 9)
        self.assertEqual(x.warnings, [])

    def test_crlf_and_ansi(self):
        log = serial_log(kernel_doc()).replace("\n", "\r\n").replace("BENCH-JSON-END", "\x1b[0mBENCH-JSON-END")
        self.assertTrue(bench.extract(log).ok)

    def test_truncated(self):
        log = serial_log(kernel_doc())
        log = log[: log.index("BENCH-JSON-END") - 300]
        x = bench.extract(log)
        self.assertFalse(x.ok)
        self.assertTrue(x.error.startswith("truncated"), x.error)
        self.assertIn("BENCH-JSON-END", x.error)
        self.assertTrue(x.text)  # kept for inspection

    def test_missing_end(self):
        x = bench.extract(serial_log(kernel_doc()).replace("BENCH-JSON-END\n", ""))
        self.assertFalse(x.ok)
        self.assertIn("without BENCH-JSON-END", x.error)

    def test_missing_begin(self):
        x = bench.extract(PREAMBLE + "PANIC: out of memory\n")
        self.assertFalse(x.ok)
        self.assertIn("no BENCH-JSON-BEGIN", x.error)

    def test_stray_kernel_line_inside_block_is_removed(self):
        lines = serial_log(kernel_doc()).split("\n")
        i = lines.index("BENCH-JSON-BEGIN") + 5
        lines.insert(i, "apic: spurious interrupt on cpu 0")
        x = bench.extract("\n".join(lines))
        self.assertTrue(x.ok, x.error)
        self.assertEqual(len(x.warnings), 1)
        self.assertIn("spurious", x.warnings[0])

    def test_garbage_inside_a_line_is_invalid(self):
        log = serial_log(kernel_doc()).replace('"ticks_min"', '"ticks_m#@!in', 1)
        x = bench.extract(log)
        self.assertFalse(x.ok)
        self.assertTrue(x.error.startswith("invalid JSON"), x.error)

    def test_garbage_around_block_is_fine(self):
        x = bench.extract("\x00\x00noise\n" + serial_log(kernel_doc(), post="garbage } { [\n"))
        self.assertTrue(x.ok, x.error)

    def test_restart_refused(self):
        log = serial_log(kernel_doc())
        self.assertIn("the kernel restarted: 2 'tachyon: ready' lines", bench.extract(log + log).error)

    def test_wrong_shape(self):
        x = bench.extract(serial_log({"context": {}, "benchmarks": [{"name": "x"}]}))
        self.assertIn("real_time", x.error)
        x = bench.extract(serial_log({"context": {}}))
        self.assertIn("benchmarks", x.error)

    def test_bench_errors_collected(self):
        x = bench.extract("bench: error: unknown benchmark 'nosuch'\n" + serial_log(kernel_doc()))
        self.assertEqual(x.bench_errors, ["unknown benchmark 'nosuch'"])

    def test_bench_errors_inside_block(self):
        # libbench streams its JSON, so an error met while running is printed inside the block.
        lines = serial_log(kernel_doc()).split("\n")
        lines.insert(lines.index("BENCH-JSON-BEGIN") + 3, "bench: error: 'slab' failed: out of memory")
        x = bench.extract("\n".join(lines))
        self.assertTrue(x.ok, x.error)
        self.assertEqual((x.bench_errors, x.warnings), (["'slab' failed: out of memory"], []))


class BootVerdict(unittest.TestCase):
    def test_ok(self):
        p, x, r = bench.judge(serial_log(kernel_doc()), 33, False, 60)
        self.assertEqual(p, [])
        self.assertEqual(r.ready_us, 4321)

    def test_hang(self):
        p, _, _ = bench.judge(PREAMBLE + "BENCH-JSON-BEGIN\n{\n", None, True, 60)
        self.assertTrue(p[0].startswith("hang"), p)
        self.assertTrue(any(q.startswith("JSON: truncated") for q in p), p)

    def test_panic(self):
        log = PREAMBLE + "BENCH-JSON-BEGIN\n{\n" + "PANIC: slab: corrupted free list\n"
        p, _, _ = bench.judge(log, 37, False, 60)
        self.assertEqual(p[0], "panic: slab: corrupted free list")

    def test_exit_35_with_error_line(self):
        log = "bench: error: unknown benchmark 'nosuch'\n" + serial_log(kernel_doc())
        p, x, _ = bench.judge(log, 35, False, 60)
        self.assertIn("bench error: unknown benchmark 'nosuch'", p)
        self.assertIn("exit status 35 (benchmark errors)", p)
        self.assertTrue(x.ok)  # the data that did arrive is still usable

    def test_clean_exit_but_truncated(self):
        log = serial_log(kernel_doc()).replace("BENCH-JSON-END\n", "")
        p, _, _ = bench.judge(log, 33, False, 60)
        self.assertTrue(p and p[0].startswith("JSON: truncated"), p)

    def test_qemu_sh_refused(self):
        p, _, _ = bench.judge("", 2, False, 60, "qemu.sh: kernel image 'x' not found (run: make)\n")
        self.assertEqual(p[0], "qemu.sh refused: kernel image 'x' not found (run: make)")

    def test_empty_results(self):
        p, _, _ = bench.judge(serial_log({"context": {}, "benchmarks": []}), 33, False, 60)
        self.assertIn("JSON: no benchmark results in it", p)


class Merging(unittest.TestCase):
    def test_merge_two_boots(self):
        m = merged()
        its = [b for b in m["benchmarks"] if b["run_type"] == "iteration"]
        aggs = [b for b in m["benchmarks"] if b["run_type"] == "aggregate"]
        self.assertEqual(len(its), 2 * 9)
        self.assertEqual(len(aggs), 3 * 3)  # the kernel's per-boot aggregates are replaced
        fa = [b for b in its if b["name"] == "base/frame_alloc/order:0"]
        self.assertEqual([b["repetition_index"] for b in fa], list(range(6)))
        self.assertTrue(all(b["repetitions"] == 6 and b["benchmark"] == "frame_alloc/order:0" for b in fa))
        self.assertEqual(sorted({b["boot"] for b in fa}), [1, 2])
        med = next(b for b in aggs if b["name"] == "base/frame_alloc/order:0_median")
        self.assertEqual((med["run_name"], med["real_time"], med["ticks_median"]),
                         ("base/frame_alloc/order:0", 412.0, 412.0))
        self.assertEqual(m["context"]["variants"], ["base"])
        self.assertEqual(len(m["context"]["boots"]), 2)
        self.assertEqual(m["context"]["mode"], "icount")

    def test_refuses_mixed_modes(self):
        cyc = dict(HOST, mode="cycles", unit="cycles")
        with self.assertRaises(ValueError):
            bench.merge([("base", 1, raw_doc()), ("base", 2, raw_doc(host=cyc))])

    def test_raw_dir_roundtrip(self):
        with tempfile.TemporaryDirectory() as d:
            for k in (1, 2):
                Path(d, f"base-boot{k}.json").write_text(json.dumps(raw_doc(boot=k)))
            Path(d, "base-boot3.partial.txt").write_text("{")
            got = bench.load_raw_dir(Path(d))
            self.assertEqual([(v, k) for v, k, _ in got], [("base", 1), ("base", 2)])

    def test_matrix(self):
        self.assertIn("rr", matrix.names())
        self.assertTrue(matrix.select(quick=True))
        self.assertEqual(matrix.VARIANTS[0].smp_for("icount"), 1)
        with self.assertRaisesRegex(matrix.UnknownVariant, "known: rr"):
            matrix.select(["nosuch"])


class CsvRows(unittest.TestCase):
    def test_rows(self):
        rows = {r["benchmark"]: r for r in bench_report.csv_rows(merged(spread=9))}
        self.assertEqual(set(rows), set(BENCHES))
        fa = rows["frame_alloc/order:0"]
        pooled = sorted([412 + (i % 10) for i in range(50)] * 6)
        self.assertEqual(fa["median"], bench_report.percentile(pooled, 50))
        self.assertEqual((fa["min"], fa["max"]), (412, 421))
        self.assertEqual((fa["boots"], fa["repetitions"], fa["samples"]), (2, 6, 300))
        self.assertEqual((fa["unit"], fa["target"], fa["source"]), ("instructions", "K-5", "samples"))
        self.assertEqual(rows["timer_overhead"]["target"], "")

    def test_counters_without_samples(self):
        rows = {r["benchmark"]: r for r in bench_report.csv_rows(merged(samples=False))}
        self.assertEqual(rows["slab_alloc/size:64"]["source"], "counters")
        self.assertEqual(rows["slab_alloc/size:64"]["median"], 700)

    def test_percentile_matches_numpy_linear(self):
        v = [1, 2, 3, 4, 10]
        self.assertEqual(bench_report.percentile(v, 50), 3)
        self.assertAlmostEqual(bench_report.percentile(v, 90), 7.6)


class Report(unittest.TestCase):
    def verdicts(self, doc):
        series = bench_report.collect(doc)
        return {t.id: bench_report.evaluate(t, doc, series) for t in targets.ROWS}

    def test_every_row_listed(self):
        text = bench_report.report(merged())
        for tid in targets.IDS:
            self.assertRegex(text, rf"\n\| {re.escape(tid)} \|", tid)
        self.assertIn("instruction budget at 1 instruction per ns", text)
        self.assertIn("## Peers", text)
        self.assertIn("`base/timer_overhead`", text.replace("| base | timer_overhead", "`base/timer_overhead`"))

    def test_ids_match_targets_md(self):
        expected = ([f"IPC-{i}" for i in range(1, 12)] + [f"K-{i}" for i in range(1, 11)]
                    + [f"S-{i}" for i in range(1, 7)] + [f"B-{i}" for i in range(1, 8)])
        self.assertEqual(list(targets.IDS), expected)
        for cand in (ROOT / "TARGETS.md", ROOT / "docs" / "TARGETS.md", ROOT.parent / "shared" / "TARGETS.md"):
            if cand.is_file():
                ids = re.findall(r"^\| ((?:IPC|K|S|B)-\d+) \|", cand.read_text(), re.MULTILINE)
                self.assertEqual(ids, expected, cand)
        self.assertEqual(len(targets.PEERS), 8)

    def test_verdicts(self):
        v = self.verdicts(merged())
        self.assertEqual(v["K-5"].verdict, "met")  # 412 < 1,000
        self.assertEqual(v["K-6"].verdict, "missed")  # 700 >= 500
        self.assertIn("icount: read as < 500 instructions", " ".join(v["K-6"].notes))
        self.assertEqual(v["IPC-1"].verdict, "not yet measured")
        self.assertIn("needs IPC endpoints", " ".join(v["IPC-1"].notes))
        self.assertEqual(v["K-8"].verdict, "not yet measured")  # icount: one vCPU
        self.assertEqual(v["S-1"].verdict, "met")  # 41,000 B < 50 KB
        self.assertEqual(v["S-2"].verdict, "met")  # 4.3 ms, partial
        self.assertIn("partial", " ".join(v["S-2"].notes))
        self.assertEqual(v["B-3"].verdict, "tested")  # a boot test, named in the notes
        self.assertIn("fork_bomb", " ".join(v["B-3"].notes))
        self.assertEqual(v["B-4"].verdict, "not yet measured")  # no supervisor yet

    def test_glob_fallback_and_size_miss(self):
        big = dict(HOST, kernel_size={"elf": "k", "text": 60_000, "data": 0, "bss": 0, "text_data": 60_000})
        doc = merged(host=big, benches={"page_map/4k": (2500, None)})
        v = self.verdicts(doc)
        self.assertEqual(v["K-7"].verdict, "missed")  # found by glob, 2,500 >= 2,000
        self.assertEqual(v["S-1"].verdict, "missed")

    def test_cycles_mode(self):
        cyc = dict(HOST, mode="cycles", unit="cycles", accel="kvm")
        doc = merged(host=cyc)
        for b in doc["context"]["boots"]:
            b["ticks_hz"] = 3e9
        doc["context"]["ticks_hz"] = 3_000_000_000  # 412 cycles = 137 ns
        v = self.verdicts(doc)
        self.assertEqual(v["K-5"].verdict, "met")
        self.assertEqual(v["K-6"].verdict, "met")  # 700 cycles = 233 ns
        text = bench_report.report(doc)
        self.assertNotIn("instruction budget", text)
        self.assertIn("per-boot medians", text)

    def test_write_all_and_cli(self):
        with tempfile.TemporaryDirectory() as d:
            Path(d, "merged.json").write_text(json.dumps(merged()))
            r = run_py("bench_report.py", d)
            self.assertEqual(r.returncode, 0, r.stdout)
            with open(Path(d, "summary.csv")) as f:
                self.assertEqual(len(list(csv.DictReader(f))), 3)
            self.assertIn("| K-5 |", Path(d, "report.md").read_text())
            self.assertEqual(run_py("bench_report.py", Path(d, "nosuch")).returncode, 2)


@unittest.skipUnless(HAVE_SCIPY, "scipy missing (scripts/deps.sh bench)")
class Compare(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, doc):
        p = self.d / name
        p.write_text(json.dumps(doc))
        return p

    def test_identical_no_change(self):
        a, b = self.write("a.json", merged()), self.write("b.json", merged())
        r = run_py("compare.py", a, b)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(len(re.findall(r"^base/.* no change$", r.stdout, re.MULTILINE)), 3, r.stdout)
        self.assertNotIn("REGRESSION", r.stdout)

    def test_plus_20_instructions_is_a_regression(self):
        worse = dict(BENCHES, **{"frame_alloc/order:0": (432, "K-5")})
        a, b = self.write("a.json", merged()), self.write("b.json", merged(benches=worse))
        r = run_py("compare.py", a, b)
        self.assertEqual(r.returncode, 1, r.stdout)
        line = next(ln for ln in r.stdout.splitlines() if ln.startswith("base/frame_alloc/order:0"))
        self.assertIn("REGRESSION", line)
        self.assertIn("+4.85%", line)
        self.assertEqual(len(re.findall(r"^base/.*REGRESSION", r.stdout, re.MULTILINE)), 1, r.stdout)
        # The same change, reversed, is an improvement and not a failure.
        r = run_py("compare.py", b, a)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("improvement", r.stdout)

    def test_run_directory_input_and_one_sided(self):
        (self.d / "run").mkdir()
        self.write("run/merged.json", merged())
        fewer = {k: v for k, v in BENCHES.items() if k != "timer_overhead"}
        b = self.write("b.json", merged(benches=dict(fewer, **{"ipc/call": (300, None)})))
        r = run_py("compare.py", self.d / "run", b)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("only in BASE (1): base/timer_overhead", r.stdout)
        self.assertIn("only in NEW (1): base/ipc/call", r.stdout)

    def test_unit_mismatch_refused(self):
        cyc = dict(HOST, mode="cycles", unit="cycles")
        a, b = self.write("a.json", merged()), self.write("b.json", merged(host=cyc))
        r = run_py("compare.py", a, b)
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertIn("timing modes differ", r.stdout)

    def test_bad_input(self):
        a = self.write("a.json", merged())
        self.assertEqual(run_py("compare.py", a, self.d / "missing.json").returncode, 2)
        (self.d / "bad.json").write_text("{ not json")
        r = run_py("compare.py", a, self.d / "bad.json")
        self.assertEqual(r.returncode, 2)
        self.assertIn("invalid JSON", r.stdout)

    def test_cycles_noise_within_threshold(self):
        cyc = dict(HOST, mode="cycles", unit="cycles")
        a = merged(host=cyc, spread=3)
        b = copy.deepcopy(a)
        for e in b["benchmarks"]:
            if e["run_type"] == "iteration" and e["repetition_index"] % 2:
                e["ticks_median"] += 2  # under 1%: noise, not a regression at 5%
        r = run_py("compare.py", self.write("a.json", a), self.write("b.json", b))
        self.assertEqual(r.returncode, 0, r.stdout)

    @unittest.skipUnless(GOOGLE_COMPARE.is_file() and _has(DEBIAN_PY, "scipy", "numpy"),
                         "Google's compare.py (libbenchmark-tools) not installed")
    def test_google_compare_accepts_merged_files(self):
        worse = dict(BENCHES, **{"frame_alloc/order:0": (432, "K-5")})
        a, b = self.write("a.json", merged()), self.write("b.json", merged(benches=worse))
        r = subprocess.run([DEBIAN_PY, str(GOOGLE_COMPARE), "benchmarks", str(a), str(b)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertNotIn("Traceback", r.stdout)
        self.assertIn("base/frame_alloc/order:0", r.stdout)
        self.assertIn("+0.0485", r.stdout)


@unittest.skipUnless(HAVE_MPL, "numpy/matplotlib missing (scripts/deps.sh bench)")
class Pipeline(unittest.TestCase):
    """`bench.py run` end to end, with a fake QEMU that plays back scripted boots."""

    FAKE = """#!/usr/bin/env python3
import os, sys, time
if sys.argv[1:] == ["--version"]:
    print("QEMU emulator version 7.2.99 (fake)"); sys.exit(0)
open(os.environ["FAKE_ARGV"], "a").write(" ".join(sys.argv[1:]) + "\\n")
plan = os.environ["FAKE_PLAN"].split(",")
counter = os.environ["FAKE_COUNTER"]
n = int(open(counter).read()) if os.path.exists(counter) else 0
open(counter, "w").write(str(n + 1))
what = plan[n % len(plan)]
log = open(os.environ["FAKE_LOG"]).read()
if what == "good":
    sys.stdout.write(log); sys.stdout.flush(); sys.exit(33)
if what == "truncated":
    sys.stdout.write(log[: log.index("BENCH-JSON-END") - 200]); sys.stdout.flush(); sys.exit(33)
sys.stdout.write(log[:200]); sys.stdout.flush(); time.sleep(60)
"""

    def test_run_with_a_failed_and_a_hung_boot(self):
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            fake = d / "fake-qemu"
            fake.write_text(self.FAKE)
            fake.chmod(0o755)
            (d / "log.txt").write_text(serial_log(kernel_doc()))
            (d / "kernel.bin").write_bytes(b"\0" * 64)
            (d / "user").mkdir()
            env = dict(os.environ, QEMU=str(fake), MODE="icount", FAKE_PLAN="good,truncated,hang,good",
                       FAKE_COUNTER=str(d / "n"), FAKE_LOG=str(d / "log.txt"), FAKE_ARGV=str(d / "argv"))
            env.pop("ACCEL", None)
            out = d / "run"
            args = ("run", "--out", out, "--variants", "rr", "--boots", 4, "--timeout", 3, "--jobs", 1,
                    "--kernel", d / "kernel.bin", "--user-dir", d / "user")
            r = run_py("bench.py", *args, env=env)
            self.assertEqual(r.returncode, 2, r.stdout)
            self.assertIn("user-space benchmark programs not built", r.stdout)
            for prog in ("ubench", "echo", "yielder", "nop", "ipc_server", "shm_peer"):
                (d / "user" / prog).write_bytes(b"\x7fELF")
            r = run_py("bench.py", *args, env=env)
            self.assertEqual(r.returncode, 1, r.stdout)
            initrd = re.findall(r"-initrd (\S+)", (d / "argv").read_text())
            self.assertEqual(len(initrd), 4)
            self.assertEqual([Path(m).name for m in initrd[0].split(",")], ["ubench", "echo", "ipc_server", "nop", "shm_peer", "yielder"])
            self.assertRegex(r.stdout, r"\[1/4\] variant=rr boot=1 \.\.\. ok 3 benchmarks, [\d.]+ s")
            self.assertRegex(r.stdout, r"\[2/4\] variant=rr boot=2 \.\.\. FAILED: JSON: truncated")
            self.assertRegex(r.stdout, r"\[3/4\] variant=rr boot=3 \.\.\. FAILED: hang")
            self.assertIn("log: ", r.stdout)
            for f in ("raw/rr-boot1.json", "raw/rr-boot4.json", "raw/rr-boot2.partial.txt",
                      "logs/boot-rr-boot3.log", "merged.json", "summary.csv", "report.md", "run.json",
                      "plots/variants.png", "plots/variants.gp", "plots/cdf-frame_alloc_order_0.png"):
                self.assertTrue((out / f).is_file(), f)
            if shutil.which("gnuplot"):
                self.assertTrue((out / "plots/variants-gnuplot.png").is_file())
            ctx = json.loads((out / "raw/rr-boot1.json").read_text())["context"]
            self.assertEqual((ctx["mode"], ctx["unit"], ctx["accel"], ctx["boot"]), ("icount", "instructions", "tcg", 1))
            self.assertEqual(ctx["commit"], "abc1234")  # the kernel's own context survives
            m = json.loads((out / "merged.json").read_text())
            self.assertEqual(len(m["context"]["boots"]), 2)
            report = (out / "report.md").read_text()
            self.assertIn("failed boot: rr-boot2: JSON: truncated", report)
            self.assertIn("message-size sweep: skipped", report)

    def test_unknown_variant_and_list(self):
        r = run_py("bench.py", "run", "--variants", "rr,nosuch")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown variant(s): nosuch; known: rr, rr-nofast, prio, prio-nofast", r.stdout)
        r = run_py("bench.py", "run", "--bench", "frame=x")  # the kernel would reject it and idle
        self.assertEqual(r.returncode, 2)
        self.assertIn("accepts only letters", r.stdout)
        r = run_py("bench.py", "list")
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith("rr"))

    def test_plot_size_sweep(self):
        with tempfile.TemporaryDirectory() as d:
            sweep = {f"ipc/call/size:{n}": (300 + n // 8, None) for n in (64, 512, 4096)}
            Path(d, "merged.json").write_text(json.dumps(merged(benches=sweep)))
            r = run_py("bench_plot.py", d, "--no-gnuplot")
            self.assertEqual(r.returncode, 0, r.stdout)
            self.assertTrue(Path(d, "plots", "size-sweep-ipc_call_size.png").is_file())


if __name__ == "__main__":
    unittest.main()

"""Unit tests for the IPC side of the benchmark report (issue 4), on synthetic merged JSON: the
IPC section (scripts/bench_ipc_report.py), the targets and peers that name ubench's IPC and
capability benchmarks (bench/targets.py), and the matrix's fastpath axis (bench/matrix.py).
Run: python3 -m unittest tests/host/test_bench_ipc.py
"""

import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from test_bench_scripts import merged  # noqa: E402  (also puts scripts/ and bench/ on the path)

import bench_ipc_report  # noqa: E402
import bench_peers  # noqa: E402
import bench_report  # noqa: E402
import matrix  # noqa: E402
import targets  # noqa: E402

# name -> (ticks per operation, target tag), as ubench tags them
IPC = {
    "syscall/null": (80, "K-1"),
    "syscall/nop_baseline": (6, None),
    "cap/info": (95, None),
    "cap/check": (15, "K-4"),
    "ipc/nop_baseline": (20, None),
    "ipc/call_reply/inter_as/fast": (500, "IPC-2,IPC-3"),
    "ipc/call_reply/inter_as/slow": (1200, None),
    "ipc/call_reply/inter_as/as_booted": (1190, None),
    "ipc/call_reply/intra_as/fast": (450, None),
    "ipc/call_reply/intra_as/slow": (800, None),
    "ipc/call/inter_as/oneway/fast": (230, "IPC-1"),
    "ipc/reply_recv/inter_as/oneway/fast": (240, None),
    "ipc/notify/signal_wait/intra_as": (900, "IPC-9"),
}


def with_counters(doc, fast=True):
    """Adds the path counters ubench writes (50 samples per entry: 50 round trips)."""
    for e in doc["benchmarks"]:
        b = e.get("benchmark", "")
        if e["run_type"] != "iteration" or not b.startswith("ipc/") or "notify" in b or "nop" in b:
            continue
        is_fast = b.endswith("/fast") and fast
        e.update(ipc_fast_calls=50 if is_fast else 0, ipc_slow_calls=0 if is_fast else 50,
                 ipc_fast_reply_recvs=49 if is_fast else 0, ipc_slow_reply_recvs=1 if is_fast else 50)
    return doc


class IpcSection(unittest.TestCase):
    def test_checks_and_ratios(self):
        doc = with_counters(merged(benches=IPC))
        text = bench_report.report(doc)
        self.assertIn("## IPC (issue 4)", text)
        self.assertIn("| fast-path inter-AS round trip <= 600 instructions | 500 | **met** |", text)
        self.assertIn("| inter-AS slow / fast round trip (>= 2x) | 2.40x | **met** |", text)
        self.assertIn("| intra-AS slow / fast round trip (>= 2x) | 1.78x | reported |", text)
        self.assertIn("| inter-AS round trip, path as the boot option fastpath= set it | 1,190 | reported |", text)
        self.assertIn("| `ipc/call_reply/inter_as/fast` | 500 | 500 | 6.25x | 300 of 300 calls (100.0%), "
                      "294 of 300 reply_recvs (98.0%) |", text)
        self.assertIn("| `syscall/null` | 80 | 80 | 1x | — |", text)
        # The references come first, then the IPC benchmarks in name order.
        self.assertLess(text.index("| `cap/check` |"), text.index("| `ipc/call/inter_as/oneway/fast` |"))

    def test_budget_missed_and_cycles_not_judged(self):
        slow = dict(IPC, **{"ipc/call_reply/inter_as/fast": (700, None), "ipc/call_reply/inter_as/slow": (1000, None)})
        med = {k: float(v[0]) for k, v in slow.items()}
        got = {w: (f, v) for w, f, v in bench_ipc_report.checks(med, "icount")}
        self.assertEqual(got["fast-path inter-AS round trip <= 600 instructions"], ("700", "missed"))
        self.assertEqual(got["inter-AS slow / fast round trip (>= 2x)"], ("1.43x", "missed"))
        got = {w: v for w, _, v in bench_ipc_report.checks(med, "cycles")}
        self.assertTrue(got["fast-path inter-AS round trip <= 600 instructions"].startswith("not judged"))

    def test_no_ipc(self):
        text = bench_report.report(merged())
        self.assertIn("## IPC (issue 4)\n\nNo IPC benchmarks in this run.", text)

    def test_variants_side_by_side(self):
        docs = []
        for v in ("rr", "rr-nofast"):
            for k in (1, 2):
                d = merged(benches=IPC, boots=1)
                raw = {"context": dict(d["context"], variant=v, boot=k),
                       "benchmarks": [dict(e, name=e["benchmark"]) for e in d["benchmarks"]
                                      if e["run_type"] == "iteration"]}
                docs.append((v, k, raw))
        import bench  # noqa: E402
        doc = with_counters(bench.merge(docs))
        out = "\n".join(bench_ipc_report.section(bench_report.collect(doc), None, "icount", 1.0, "instructions"))
        self.assertIn("| rr-nofast | inter-AS slow / fast round trip (>= 2x) | 2.40x | **met** |", out)
        self.assertIn("Variant rr:", out)


class IpcTargets(unittest.TestCase):
    def test_rows_and_peers(self):
        doc = with_counters(merged(benches=IPC))
        series = bench_report.collect(doc)
        v = {t.id: bench_report.evaluate(t, doc, series) for t in targets.ROWS}
        self.assertEqual((v["IPC-1"].verdict, v["IPC-1"].benchmark), ("met", "`base/ipc/call/inter_as/oneway/fast`"))
        self.assertEqual(v["IPC-3"].benchmark, "`base/ipc/call_reply/inter_as/fast`")
        self.assertEqual(v["IPC-2"].verdict, "met")
        self.assertEqual(v["IPC-9"].verdict, "met")  # 900 <= 1,000 * 1.25
        self.assertEqual(v["K-4"].benchmark, "`base/cap/check`")
        self.assertEqual(v["IPC-11"].verdict, "met")
        peers = {p.what: bench_peers.measure(p, series, None, 1.0) for p in targets.PEERS}
        self.assertEqual(peers["call + reply round trip, different address spaces"][0], 480)  # 500 - 20
        self.assertEqual(peers["call + reply round trip, same address space"][0], 430)
        self.assertEqual(peers["call, one way, client -> server, different address spaces"][0], 230)
        self.assertEqual(peers["reply-and-wait, one way, server -> client, different address spaces"][0], 240)
        self.assertIsNone(peers["slow path, 10-word message, one way (call / reply)"][0])

    def test_ipc11_needs_counters(self):
        doc = merged(benches=IPC)
        v = bench_report.evaluate(targets.by_id("IPC-11"), doc, bench_report.collect(doc))
        self.assertEqual(v.verdict, "missed")
        self.assertIn("no counter matching *fast*", v.notes)


class FastpathAxis(unittest.TestCase):
    def test_variants(self):
        names = matrix.names()
        self.assertEqual(names, ["rr", "rr-nofast", "prio", "prio-nofast"])
        self.assertEqual([v.name for v in matrix.select(quick=True)], ["rr", "prio"])
        nofast = matrix.select(["prio-nofast"])[0]
        self.assertEqual(nofast.options, "sched=prio fastpath=off")


if __name__ == "__main__":
    unittest.main()

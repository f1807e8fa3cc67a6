"""Unit tests for the shared-memory side of the benchmark report (issue 5), on synthetic merged
JSON: the section of scripts/bench_shm_report.py (transport round trips beside the endpoint round
trip, ring table with the two-process columns, transfer table with the grant column and the
crossovers, skipped cross-CPU benchmarks), skipped entries in bench_report and bench_merge, and
the targets IPC-4 to IPC-8 and IPC-10 tied to these benchmarks.
Run: python3 -m unittest tests/host/test_bench_shm.py
"""

import re
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from test_bench_scripts import HOST, bench, raw_doc  # noqa: E402  (also puts scripts/ and bench/ on the path)

import bench_report  # noqa: E402
import bench_shm_report  # noqa: E402

# name -> (ticks per operation, target tag), as ubench tags them
SHM = {
    "ring/poll/batch:1": (240, "IPC-8"),
    "ring/poll/batch:16": (45, None),
    "ring/notify/batch:1": (1065, "IPC-6"),
    "ring/notify/batch:16": (158, "IPC-6"),
    "xfer/copy/size:64": (371, None),
    "xfer/copy/size:1024": (1811, None),
    "xfer/copy/size:4096": (6419, "IPC-4,IPC-5"),
    "xfer/copy/size:1048576": (1_573_471, "IPC-7"),
    "xfer/pool/size:64": (542, None),
    "xfer/pool/size:1024": (1022, None),
    "xfer/pool/size:4096": (2558, "IPC-4,IPC-5"),
    "xfer/pool/size:1048576": (524_964, "IPC-7"),
    "xfer/grant/size:4096": (7124, "IPC-4,IPC-5"),
    "xfer/grant/size:1048576": (752_024, "IPC-7"),
    "ring/proc/poll/batch:1": (740, None),
    "ring/proc/notify/batch:1": (1092, None),
    "ring/proc/notify/batch:16": (162, None),
    "ipc/call_reply/inter_as/fast": (529, "IPC-2,IPC-3"),
    "transport/fastpath/call_reply/size:56": (2116, "IPC-10"),
    "transport/ring/call_reply/size:56": (3174, None),
    "transport/zcopy/call_reply/size:56": (1058, None),
    "transport/zcopy/call_reply/size:4096": (35_812, None),
}
SKIP = "not cycles mode: hypervisor 'TCGTCGTCGTCG' is not KVM"


def shm_doc(boots=2, benches=SHM):
    """A merged run with SHM's benchmarks, their ring counters, and two skipped xcpu entries."""
    raws = []
    for k in range(1, boots + 1):
        d = raw_doc("base", k, HOST, benches=benches)
        for e in d["benchmarks"]:
            if e["name"].startswith(("ring/notify/batch:", "ring/proc/notify/batch:")) and \
                    e["run_type"] == "iteration":
                per = int(e["name"].rsplit(":", 1)[1])
                e.update(ring_msgs=3200, ring_signals=3200 // max(per, 2) * 2)
        for name in ("xcpu/ring/roundtrip", "xcpu/ring/stream/batch:16"):
            d["benchmarks"].append({
                "name": name, "run_name": name, "run_type": "iteration", "repetitions": 5,
                "repetition_index": 0, "threads": 1, "iterations": 0, "real_time": 0, "cpu_time": 0,
                "time_unit": "ns", "target": None, "description": "x", "skipped": True,
                "skip_message": SKIP})
        raws.append(("base", k, d))
    return bench.merge(raws, {"run_id": "t"})


class Crossover(unittest.TestCase):
    def test_from_first_size_that_stays_cheaper(self):
        copy = {64: 100, 1024: 1000, 4096: 4000}
        self.assertEqual(bench_shm_report.crossover(copy, {64: 200, 1024: 900, 4096: 1000}), 1024)
        self.assertEqual(bench_shm_report.crossover(copy, {64: 50, 1024: 900, 4096: 1000}), 64)

    def test_a_loss_above_resets_it(self):
        copy = {64: 100, 1024: 1000, 4096: 4000}
        self.assertEqual(bench_shm_report.crossover(copy, {64: 50, 1024: 1100, 4096: 1000}), 4096)
        self.assertIsNone(bench_shm_report.crossover(copy, {64: 50, 1024: 900, 4096: 5000}))
        self.assertIsNone(bench_shm_report.crossover(copy, {}))


class Section(unittest.TestCase):
    def test_tables_crossover_and_skips(self):
        text = bench_report.report(shm_doc())
        self.assertIn("## Shared-memory IPC (issue 5)", text)
        self.assertIn("| 1 | 240 / 240 | 1,065 / 1,065 | 4.44x | 1.000 | 740 / 740 | 1,092 / 1,092 | "
                      "1.03x | 1.000 |", text)
        self.assertIn("| 16 | 45 / 45 | 158 / 158 | 3.51x | 0.125 | — | 162 / 162 | 1.03x | 0.125 |", text)
        self.assertIn("| 64 B | 371 / 371 | 542 / 542 | — | 1.46x | — | — |", text)
        self.assertIn("| 4 KiB | 6,419 / 6,419 | 2,558 / 2,558 | 7,124 / 7,124 | 0.40x | 1.11x | 2.78x |", text)
        self.assertIn("| 1 MiB | 1,573,471 / 1,573,471 | 524,964 / 524,964 | 752,024 / 752,024 | 0.33x | "
                      "0.48x | 1.43x |", text)
        self.assertIn("pool vs copy: **crossover at 1 KiB**", text)
        self.assertIn("grant vs copy: **crossover at 1 MiB**: grant costs less from 1 MiB up to the "
                      "largest size measured by both (4 KiB to 1 MiB)", text)
        self.assertIn("grant vs pool: no crossover: grant costs at least as much at 1 MiB", text)
        self.assertIn(f"| `xcpu/ring/roundtrip` | skipped | — | {SKIP} |", text)

    def test_transport_round_trips_beside_the_endpoint(self):
        text = bench_report.report(shm_doc())
        self.assertIn("| transport | size | median | p99 | / ipc/call_reply/inter_as/fast |", text)
        self.assertIn("| fastpath | 56 B | 2,116 | 2,116 | 4.00x |", text)
        self.assertIn("| ring | 56 B | 3,174 | 3,174 | 6.00x |", text)
        self.assertIn("| zcopy | 56 B | 1,058 | 1,058 | 2.00x |", text)
        self.assertIn("| zcopy | 4 KiB | 35,812 | 35,812 | 67.70x |", text)
        # Sizes first, transports in their fixed order within a size.
        self.assertLess(text.index("| fastpath | 56 B"), text.index("| ring | 56 B"))
        self.assertLess(text.index("| zcopy | 56 B"), text.index("| zcopy | 4 KiB"))

    def test_transports_without_the_endpoint_round_trip(self):
        benches = {k: v for k, v in SHM.items() if not k.startswith("ipc/")}
        text = bench_report.report(shm_doc(benches=benches))
        self.assertIn("| fastpath | 56 B | 2,116 | 2,116 | — |", text)

    def test_none(self):
        doc = bench.merge([("base", 1, raw_doc("base", 1, HOST, benches={"syscall/null": (80, "K-1")}))], {})
        self.assertIn("## Shared-memory IPC (issue 5)\n\nNo shared-memory benchmarks in this run.",
                      bench_report.report(doc))


class Skipped(unittest.TestCase):
    def test_no_figure_and_no_aggregate(self):
        doc = shm_doc()
        self.assertNotIn("base/xcpu/ring/roundtrip", bench_report.collect(doc))
        self.assertEqual(bench_report.skipped(doc)[("base", "xcpu/ring/roundtrip")], SKIP)
        names = [e["name"] for e in doc["benchmarks"]]
        self.assertEqual(names.count("base/xcpu/ring/roundtrip"), 2)  # one per boot
        self.assertNotIn("base/xcpu/ring/roundtrip_median", names)
        self.assertNotIn("xcpu/ring/roundtrip", {r["benchmark"] for r in bench_report.csv_rows(doc)})


class Targets(unittest.TestCase):
    def verdicts(self, doc):
        series = bench_report.collect(doc)
        return {t.id: bench_report.evaluate(t, doc, series) for t in bench_report.T.ROWS}

    def test_ring_and_transfer_rows(self):
        v = self.verdicts(shm_doc())
        self.assertEqual(v["IPC-4"].verdict, "missed")  # copy at 4 KiB: 6,419 > 5,000
        self.assertIn("xfer/pool/size:4096: met", " ".join(v["IPC-4"].notes))
        self.assertEqual(v["IPC-5"].verdict, "met")
        self.assertEqual(v["IPC-6"].verdict, "met")
        self.assertIn("938,967 msgs/s", " ".join(v["IPC-6"].notes))
        self.assertEqual(v["IPC-7"].verdict, "missed")  # copy: 0.666 GB/s
        self.assertIn("xfer/pool/size:1048576: met", " ".join(v["IPC-7"].notes))
        self.assertEqual(v["IPC-8"].verdict, "missed")
        self.assertEqual(v["IPC-8"].benchmark, "`base/ring/poll/batch:1`")
        self.assertIn("xfer/grant/size:4096: missed", " ".join(v["IPC-4"].notes))
        self.assertIn("xfer/grant/size:1048576: met", " ".join(v["IPC-7"].notes))

    def test_service_latency_is_the_echo_round_trip(self):
        v = self.verdicts(shm_doc())
        self.assertEqual(v["IPC-10"].verdict, "met")
        self.assertEqual(v["IPC-10"].benchmark, "`base/transport/fastpath/call_reply/size:56`")
        # Untagged (an older ubench), the glob finds the same benchmark.
        benches = {k: (t, None) for k, (t, _) in SHM.items()}
        self.assertEqual(self.verdicts(shm_doc(benches=benches))["IPC-10"].benchmark,
                         "`base/transport/fastpath/call_reply/size:56`")

    def test_ipc10_follows_the_default_transport(self):
        header = (HERE.parent.parent / "kernel" / "abi" / "transport.h").read_text()
        default = re.search(r'#define TRANSPORT_DEFAULT\s+"([a-z]+)"', header).group(1)
        self.assertEqual(bench_report.T.by_id("IPC-10").benchmarks[0],
                         f"transport/{default}/call_reply/size:56")


if __name__ == "__main__":
    unittest.main()

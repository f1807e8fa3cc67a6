"""Unit tests for scripts/trace_export.py on synthetic traces (no QEMU).

The traces are built here byte by byte from the layout in kernel/trace/trace_abi.h, so a drift
between the exporter and that layout fails these tests rather than silently mis-parsing.
Run: python3 -m unittest tests/host/test_trace_export.py
"""

import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts")
sys.path.insert(0, SCRIPTS)
import trace_export as tx  # noqa: E402

HZ = 1_000_000_000  # 1 GHz: one tick is one nanosecond, so microseconds are ticks / 1000
HDR_PAGE = 4096

IRQ_ENTER, IRQ_EXIT, EXC_ENTER, PAGE_FAULT, EXC_EXIT, MARK = 8, 9, 10, 11, 12, 13
SYSCALL_ENTER, SYSCALL_EXIT, IPC_SEND = 1, 2, 3


def ev(tsc, typ, a0=0, a1=0, cpu=0, thread=0):
    return struct.pack("<QHBBIQQ", tsc, cpu, typ, 0, thread, a0, a1)


def header(ncpus, ring, heads, state=2, magic=tx.MAGIC, version=1, start=500, offsets=None):
    fixed = struct.pack("<QIIII QQ II QQQ II Q 24s 16x", magic, version, 128 + 32 * ncpus, 32, ncpus, ring,
                        HZ, state, 0x3ffe, start, 0, HDR_PAGE + ncpus * ring * 32, 1, 0, 0, b"test")
    cpus = b""
    for i in range(ncpus):
        head = heads[i] if state == 2 else 0
        off = offsets[i] if offsets else HDR_PAGE + i * ring * 32
        cpus += struct.pack("<QQQQ", head, max(0, head - ring), off, 0)
    return fixed + cpus


def shm(per_cpu, ring=16, state=2, **kw):
    """A region as the kernel leaves it: per_cpu[i] is CPU i's events in recording order; a
    list longer than the ring wraps and overwrites its oldest entries, as the kernel's would."""
    ncpus = len(per_cpu)
    data = bytearray(header(ncpus, ring, [len(x) for x in per_cpu], state=state, **kw))
    data += bytes(HDR_PAGE - len(data))
    for evs in per_cpu:
        slots = [bytes(32)] * ring
        for seq, e in enumerate(evs):
            slots[seq % ring] = e
        data += b"".join(slots)
    return bytes(data)


def serial(per_cpu, ring=16, noise=True, **kw):
    """The fallback dump of the same trace, inside some ordinary boot-log lines."""
    words = lambda b: struct.unpack(f"<{len(b) // 8}Q", b)  # noqa: E731
    hdr = header(len(per_cpu), ring, [len(x) for x in per_cpu], **kw)
    lines, total, n = ["tachyon: ready in 100 us", "TRACE-BEGIN version=1"], 0, 0
    for i in range(0, len(hdr), 32):
        w = words(hdr[i:i + 32])
        total += sum(w)
        lines.append("TRACE-H " + " ".join(f"{x:016x}" for x in w))
    for evs in per_cpu:
        for e in evs[max(0, len(evs) - ring):]:
            w = words(e)
            total += sum(w)
            n += 1
            lines.append("TRACE-E " + " ".join(f"{x:016x}" for x in w))
            if noise and n == 2:
                lines.append("apic: some unrelated line in between")
    lines.append(f"TRACE-END events={n} sum={total & (2**64 - 1):016x}")
    return "\r\n".join(lines) + "\r\n"


# CPU 0: three timer interrupts of 100, 300 and 200 ticks, a marker, a page fault of 50 ticks
# with an interrupt nested inside it. CPU 1: one system call of 1000 ticks and an IPC send.
CPU0 = [
    ev(1000, IRQ_ENTER, 0x30, 0xffffffff80100000), ev(1100, IRQ_EXIT, 0x30),
    ev(2000, IRQ_ENTER, 0x30), ev(2300, IRQ_EXIT, 0x30),
    ev(2500, MARK, 7, 42),
    ev(3000, IRQ_ENTER, 0x30), ev(3200, IRQ_EXIT, 0x30),
    ev(4000, PAGE_FAULT, 0xdead000, 2), ev(4010, IRQ_ENTER, 0x31), ev(4020, IRQ_EXIT, 0x31),
    ev(4050, EXC_EXIT, 14, 0xffffffff80100010),
]
CPU1 = [ev(1500, SYSCALL_ENTER, 3, 0, cpu=1, thread=5), ev(1600, IPC_SEND, 9, 1 | 4 << 8, cpu=1, thread=5),
        ev(2500, SYSCALL_EXIT, 3, 0, cpu=1, thread=5)]


class Exporter(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def write(self, name, content):
        path = os.path.join(self.tmp.name, name)
        # Text is written as bytes too, so the log's CRLF line ends reach the exporter unchanged.
        with open(path, "wb") as f:
            f.write(content if isinstance(content, bytes) else content.encode())
        return path

    def cli(self, *args):
        return subprocess.run([sys.executable, os.path.join(SCRIPTS, "trace_export.py"), *args],
                              capture_output=True, text=True, timeout=60)

    def check_reference_output(self, out):
        with open(os.path.join(out, "trace.json")) as f:
            doc = json.load(f)
        evs = doc["traceEvents"]
        for e in evs:
            self.assertIn(e["ph"], ("X", "i", "M"))
            self.assertIsInstance(e["pid"], int)
            self.assertIsInstance(e["tid"], int)
        spans = [e for e in evs if e["ph"] == "X"]
        irq30 = sorted((e["ts"], e["dur"]) for e in spans if e["name"] == "irq 0x30")
        # ts counts from the header's start stamp (500 ticks) in microseconds.
        self.assertEqual(irq30, [(0.5, 0.1), (1.5, 0.3), (2.5, 0.2)])
        pf = [e for e in spans if e["name"] == "exc #PF"]
        self.assertEqual(len(pf), 1)
        self.assertEqual((pf[0]["ts"], pf[0]["dur"]), (3.5, 0.05))
        self.assertEqual(pf[0]["args"]["addr"], "0xdead000")
        sc = [e for e in spans if e["name"] == "syscall 3"]
        self.assertEqual([(e["pid"], e["tid"], e["dur"]) for e in sc], [(1, 5, 1.0)])
        inst = {e["name"]: e for e in evs if e["ph"] == "i"}
        self.assertEqual(set(inst), {"mark", "ipc_send"})
        self.assertEqual(inst["ipc_send"]["args"]["path"], "fast")
        self.assertEqual(inst["ipc_send"]["args"]["tag"], 4)
        self.assertEqual(inst["mark"]["s"], "t")
        names = {e["args"]["name"] for e in evs if e["ph"] == "M" and e["name"] == "process_name"}
        self.assertEqual(names, {"CPU 0", "CPU 1"})
        self.assertEqual(doc["otherData"]["unpaired"], 0)

        with open(os.path.join(out, "latency.json")) as f:
            stats = json.load(f)
        irq = stats["spans"]["irq 0x30"]
        self.assertEqual((irq["count"], irq["min"], irq["median"], irq["p99"], irq["max"]), (3, 100, 200, 300, 300))
        self.assertAlmostEqual(irq["us"]["median"], 0.2)
        self.assertEqual(stats["spans"]["exc #PF"]["count"], 1)
        self.assertEqual(stats["spans"]["irq 0x31"]["max"], 10)
        self.assertEqual(stats["event_counts"]["irq_enter"], 4)
        hist = {b["from"]: b["count"] for b in irq["log2_histogram"]}
        self.assertEqual((hist[64], hist[128], hist[256]), (1, 1, 1))
        with open(os.path.join(out, "latency.txt")) as f:
            text = f.read()
        self.assertRegex(text, r"irq 0x30\s+3\s+100\s+200\s+300\s+300")

    def test_shm_file_to_json_and_histograms(self):
        path = self.write("trace.shm", shm([CPU0, CPU1]))
        out = os.path.join(self.tmp.name, "out")
        r = self.cli(path, "--out", out, "--no-png")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("14 events on 2 CPU(s)", r.stdout)
        self.check_reference_output(out)

    def test_serial_log_gives_the_same_result(self):
        path = self.write("boot.log", serial([CPU0, CPU1]))
        out = os.path.join(self.tmp.name, "out")
        r = self.cli(path, "--out", out, "--format", "auto", "--no-png")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check_reference_output(out)
        self.assertEqual(tx.load(path, "serial").source, "serial")

    def test_wrapped_ring_keeps_newest_and_reports_loss(self):
        evs = [ev(100 * (i + 1), MARK, i) for i in range(13)]
        t = tx.load(self.write("w.shm", shm([evs], ring=8)))
        self.assertEqual([e.arg0 for e in t.events[0]], list(range(5, 13)))
        self.assertEqual(t.cpus[0].lost, 5)
        self.assertEqual(tx.chrome_json(t)["otherData"]["lost_overwritten"], 5)

    def test_exit_without_entry_is_unpaired_not_dropped(self):
        # The ring wrapped past an interrupt's entry: its exit stays visible, marked unpaired.
        evs = [ev(100, IRQ_ENTER, 0x30), ev(200, MARK)] + [ev(300 + i, MARK, i) for i in range(6)] + \
              [ev(400, IRQ_EXIT, 0x30), ev(500, IRQ_ENTER, 0x30), ev(600, IRQ_EXIT, 0x30)]
        t = tx.load(self.write("u.shm", shm([evs], ring=8)))
        doc = tx.chrome_json(t)
        self.assertEqual(doc["otherData"]["unpaired"], 1)
        self.assertEqual([e["name"] for e in doc["traceEvents"] if "unpaired" in e["name"]], ["irq_exit (unpaired)"])
        self.assertEqual(tx.latency_stats(t)["spans"]["irq 0x30"]["count"], 1)

    def test_unfinished_trace_is_recovered_by_scanning(self):
        t = tx.load(self.write("r.shm", shm([CPU0, CPU1], state=1)))
        self.assertFalse(t.finished)
        self.assertTrue(any("did not finish" in w for w in t.warnings))
        self.assertEqual(len(t.all_events()), len(CPU0) + len(CPU1))
        self.assertEqual(tx.latency_stats(t)["spans"]["irq 0x30"]["median"], 200)

    def test_percentiles_are_nearest_rank(self):
        v = list(range(1, 101))
        self.assertEqual((tx.nearest_rank(v, 50), tx.nearest_rank(v, 99), tx.nearest_rank(v, 100)), (50, 99, 100))
        self.assertEqual(tx.nearest_rank([7], 99), 7)
        self.assertEqual(tx.nearest_rank([1, 2], 50), 1)

    def assert_rejected(self, content, *why, fmt="auto"):
        path = self.write("bad", content)
        r = self.cli(path, "--out", os.path.join(self.tmp.name, "out"), "--format", fmt)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("trace_export: error:", r.stderr)
        for w in why:
            self.assertIn(w, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "out", "trace.json")))

    def test_bad_magic_is_an_error(self):
        self.assert_rejected(shm([CPU0], magic=0x1122334455667788), "bad magic", "TACHYTRC")

    def test_all_zero_region_says_tracing_never_started(self):
        self.assert_rejected(bytes(1 << 16), "never started tracing", "trace=on")

    def test_unknown_version_is_an_error(self):
        self.assert_rejected(shm([CPU0], version=2), "unsupported trace version 2")

    def test_truncated_region_is_an_error(self):
        self.assert_rejected(shm([CPU0, CPU1])[:HDR_PAGE + 16 * 32 + 100], "truncated", "CPU 1")
        self.assert_rejected(shm([CPU0])[:64], "truncated")

    def test_ring_outside_the_region_is_an_error(self):
        self.assert_rejected(shm([CPU0], offsets=[1 << 30]), "truncated")

    def test_serial_without_end_is_truncated(self):
        log = serial([CPU0])
        self.assert_rejected(log[:log.index("TRACE-END")], "TRACE-END")

    def test_serial_lost_or_garbled_lines_are_errors(self):
        lines = serial([CPU0]).split("\r\n")
        i = next(k for k, ln in enumerate(lines) if ln.startswith("TRACE-E"))
        self.assert_rejected("\r\n".join(lines[:i] + lines[i + 1:]), "lines lost")
        garbled = lines[i][:-1] + ("0" if lines[i][-1] != "0" else "1")
        self.assert_rejected("\r\n".join(lines[:i] + [garbled] + lines[i + 1:]), "checksum")

    def test_serial_bad_magic_is_an_error(self):
        self.assert_rejected(serial([CPU0], magic=0xDEADBEEF), "bad magic")

    def test_log_without_dump_is_an_error(self):
        self.assert_rejected("tachyon: ready in 5 us\nTEST DONE passed=1 failed=0\n", "TRACE-BEGIN")
        self.assert_rejected("tachyon: ready in 5 us\n", "TRACE-BEGIN", fmt="serial")

    def test_forced_shm_format_on_a_log_reports_bad_magic(self):
        self.assert_rejected(serial([CPU0]) + "x" * 200, "bad magic", fmt="shm")


if __name__ == "__main__":
    unittest.main()

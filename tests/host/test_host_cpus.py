"""HostCpus: boots overlap only while their vCPUs fit the host's CPUs (scripts/host_cpus.py)."""

import sys
import threading
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from host_cpus import HostCpus  # noqa: E402


class DemandTest(unittest.TestCase):
    def test_vcpus_count_as_host_cpus(self):
        cpus = HostCpus(4)
        self.assertEqual(cpus.demand({"SMP": "2"}), 2)
        self.assertEqual(cpus.demand({}), 1)

    def test_icount_runs_on_one_host_thread(self):
        self.assertEqual(HostCpus(4).demand({"SMP": "2", "MODE": "icount"}), 1)

    def test_a_boot_wider_than_the_host_runs_alone_rather_than_never(self):
        self.assertEqual(HostCpus(2).demand({"SMP": "8"}), 2)

    def test_a_malformed_smp_counts_as_one(self):
        self.assertEqual(HostCpus(2).demand({"SMP": "two"}), 1)


class AdmissionTest(unittest.TestCase):
    def test_second_wide_boot_waits_for_the_first(self):
        cpus = HostCpus(2)
        cpus.acquire(2)
        admitted = threading.Event()

        def second():
            cpus.acquire(2)
            admitted.set()
            cpus.release(2)

        t = threading.Thread(target=second, daemon=True)
        t.start()
        self.assertFalse(admitted.wait(0.2), "admitted while the host's CPUs were all taken")
        cpus.release(2)
        self.assertTrue(admitted.wait(10), "not admitted after the first boot ended")
        t.join(10)
        self.assertEqual(cpus.free, 2)

    def test_narrow_boots_share_the_host(self):
        cpus = HostCpus(2)
        cpus.acquire(1)
        admitted = threading.Event()
        t = threading.Thread(target=lambda: (cpus.acquire(1), admitted.set()), daemon=True)
        t.start()
        self.assertTrue(admitted.wait(10))
        t.join(10)
        self.assertEqual(cpus.free, 0)


if __name__ == "__main__":
    unittest.main()

"""`gossip-learner bench` and `--version`: the figures a Pi owner reads, and an honest word when
the machine is busy (a spinner pinned to the bench's core must make it say so)."""
import json
import os
import platform
import subprocess
import sys
import unittest

from harness import BIN

FIGURES = ("training_samples_per_s", "training_samples_per_cpu_s", "gemm_g_multiply_adds_per_s",
           "gemm_g_multiply_adds_per_cpu_s", "frame_encode_decode_ms", "frame_mac_seal_ms", "frame_mac_verify_ms",
           "frame_encrypt_ms", "frame_decrypt_ms", "peak_rss_mb")


def on_cpu0():
    os.sched_setaffinity(0, {0})


class BenchTest(unittest.TestCase):
    def bench(self, *args, pin=False):
        res = subprocess.run([BIN, "bench", "--seconds", "0.5"] + list(args), capture_output=True, text=True,
                             timeout=300, preexec_fn=on_cpu0 if pin else None)
        self.assertEqual(res.returncode, 0, res.stderr)
        return res.stdout

    def test_json_gives_every_figure_for_this_architecture(self):
        figures = json.loads(self.bench("--json"))
        for key in FIGURES:
            self.assertGreater(figures[key], 0, key)
        self.assertTrue(figures["architecture"].startswith(platform.machine()), figures["architecture"])
        self.assertGreater(figures["frame_bytes"], 4 * figures["model_parameters"])

    def test_a_busy_core_is_reported_with_cpu_time_beside_wall_time(self):
        spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=on_cpu0)
                    for _ in range(2)]
        try:
            figures = json.loads(self.bench("--json", pin=True))
            table = self.bench(pin=True)
        finally:
            for s in spinners:
                s.kill()
                s.wait()
        self.assertTrue(figures["machine_busy"], figures)
        self.assertLess(figures["cpu_wall_ratio"], 0.9)
        self.assertGreater(figures["training_samples_per_cpu_s"], figures["training_samples_per_s"])
        self.assertIn("MACHINE BUSY", table)
        self.assertIn("per CPU-second", table)

    def test_version_names_the_architecture_and_the_build(self):
        res = subprocess.run([BIN, "--version"], capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertRegex(res.stdout, r"^gossip-learner \d+\.\d+\.\d+\n")
        self.assertIn(f"architecture: {platform.machine()}", res.stdout)
        for field in ("commit:", "compiler:", "build flags:"):
            self.assertIn(field, res.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)

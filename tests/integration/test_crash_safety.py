"""A crash at any moment loses at most one checkpoint interval of training.

kill -9 while training, a crash half-way through writing a checkpoint (the node's test hook
GL_TEST_CRASH_IN_CHECKPOINT=N aborts the Nth save after writing half of the temporary file),
and a damaged newest checkpoint: each time the restarted node resumes from the newest usable
checkpoint, with the model age it had at most one interval (plus slack) before the crash.
"""
import glob
import os
import re
import signal
import time
import unittest

from harness import ClusterTestCase, wait_for

INTERVAL = 2.0  # seconds between checkpoints
SLACK = 1.5     # scheduling slack on a loaded 2-core machine
ARGS = ["--hidden", "32", "--discovery", "static", "--gossip-interval-s", "0",
        "--eval-interval-s", "0", "--checkpoint-interval-s", str(INTERVAL)]


class CrashSafetyTest(ClusterTestCase):
    def setUp(self):
        super().setUp()
        shards, _ = self.make_shards(1)
        self.node = self.add_node("n", shards[0], ARGS)
        self.ages = []  # (monotonic time, model_age) as seen on the status socket

    def watch_until(self, condition, timeout, what):
        def poll():
            s = self.node.status()
            if s:
                self.ages.append((time.monotonic(), s["model_age"]))
            return condition(s)
        return wait_for(poll, timeout, what, interval=0.1)

    def age_before(self, moment):
        """The largest model age seen at or before `moment`."""
        return max((age for t, age in self.ages if t <= moment), default=0)

    def log_text(self):
        with open(self.node.log_path, errors="replace") as f:
            return f.read()

    def resumed_age(self):
        """Restarts the node and returns the age it resumed from (from its log)."""
        self.node.start()
        self.node.wait_ready()
        match = wait_for(lambda: re.findall(r"resuming from (\S+) \(age (\d+)\)", self.log_text()),
                         30, "the resume line")
        return match[-1][0], int(match[-1][1])

    def test_kill_9_while_training(self):
        self.node.start()
        self.node.wait_ready()
        start = time.monotonic()
        self.watch_until(lambda s: time.monotonic() - start > 3 * INTERVAL + 0.7, 60, "three checkpoints")
        killed_at = time.monotonic()
        self.node.stop(signal.SIGKILL)
        path, age = self.resumed_age()
        self.assertTrue(path.endswith("model.ckpt"), path)
        self.assertGreaterEqual(age, self.age_before(killed_at - INTERVAL - SLACK))
        self.assertGreater(age, 0)
        self.assertLessEqual(age, self.age_before(killed_at) + 1)

    def test_crash_in_the_middle_of_a_checkpoint_write(self):
        os.environ["GL_TEST_CRASH_IN_CHECKPOINT"] = "3"
        try:
            self.node.start()
            self.watch_until(lambda s: not self.node.alive(), 60, "the hook to abort the third checkpoint write")
        finally:
            del os.environ["GL_TEST_CRASH_IN_CHECKPOINT"]
        crashed_at = time.monotonic()
        self.assertEqual(self.node.proc.returncode, -signal.SIGABRT)
        self.node.stop()
        self.assertTrue(glob.glob(os.path.join(self.node.state_dir, "model.ckpt.tmp.*")), "a half-written temp file")
        path, age = self.resumed_age()
        # The half-written one was a temporary file: the newest complete checkpoint stayed in place.
        self.assertTrue(path.endswith("model.ckpt"), path)
        self.assertGreaterEqual(age, self.age_before(crashed_at - INTERVAL - SLACK))
        self.assertGreater(age, 0)
        self.assertFalse(glob.glob(os.path.join(self.node.state_dir, "*.tmp.*")), "the restart clears the temp file")
        self.assertIn("temporary file(s) that a crash left", self.log_text())

    def test_damaged_newest_checkpoint_falls_back_to_the_previous(self):
        self.node.start()
        self.node.wait_ready()
        start = time.monotonic()
        self.watch_until(lambda s: time.monotonic() - start > 2 * INTERVAL + 0.7, 60, "two checkpoints")
        self.assertEqual(self.node.stop(), 0)
        newest = os.path.join(self.node.state_dir, "model.ckpt")
        with open(newest, "r+b") as f:
            f.seek(os.path.getsize(newest) // 2)
            byte = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([byte[0] ^ 0xFF]))
        path, age = self.resumed_age()
        self.assertTrue(path.endswith("model.prev.ckpt"), path)
        self.assertIn("checksum", self.log_text())
        self.assertGreater(age, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""SIGTERM saves the model and exits 0; a restart resumes from the checkpoint;
--fresh ignores it; bad input at start fails with a clear message that names the flag typed
or the config key and its file."""
import os
import subprocess
import unittest

from harness import BIN, ClusterTestCase, wait_for

COMMON = ["--hidden", "32", "--discovery", "static", "--gossip-interval-s", "0", "--eval-interval-s", "1",
          "--checkpoint-interval-s", "0"]


class NodeLifecycleTest(ClusterTestCase):
    def test_sigterm_saves_and_restart_resumes(self):
        shards, _ = self.make_shards(1)
        node = self.add_node("solo", shards[0], COMMON)
        node.start().wait_ready()
        trained = wait_for(lambda: (node.status() or {}).get("model_age", 0) >= 2000 and node.status(), 60,
                           "some training")
        self.assertEqual(node.stop(), 0)
        self.assertTrue(os.path.exists(os.path.join(node.state_dir, "model.ckpt")))

        node.start().wait_ready()
        resumed = node.status()
        self.assertGreaterEqual(resumed["model_age"], trained["model_age"])
        self.assertEqual(node.stop(), 0)
        self.assertIn("resuming from", node.log_tail(200))

        log_size = os.path.getsize(node.log_path)
        node.start(["--fresh"]).wait_ready()
        self.assertEqual(node.stop(), 0)
        with open(node.log_path, errors="replace") as log:
            log.seek(log_size)
            fresh_log = log.read()
        self.assertIn("listening on", fresh_log)
        self.assertNotIn("resuming from", fresh_log)

    def config_file(self, text):
        path = os.path.join(self.workdir, "node.toml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_bad_start_is_a_clear_error(self):
        for args, expected in [
            (["--data", "/nonexistent/shard.tsv"], "/nonexistent/shard.tsv"),
            (["--data", "x", "--merge", "median"],
             "--merge: must be one of age-weighted, average, trimmed-mean (got 'median')"),
            (["--data", "x", "--listen", "nocolon"], "HOST:PORT"),
            # an error names what the user typed: the flag (an old spelling too), or the file and key
            (["--data", "x", "--batch-size", "0"], "--batch-size: must be in [1, 4096] (got 0)"),
            (["--data", "x", "--batch", "0"], "--batch: must be in [1, 4096] (got 0)"),
            (["--data", "x", "--peers", "127.0.0.1:7070:1"], "--peers: '127.0.0.1:7070:1' is not HOST:PORT"),
            (["--data", "x", "--gossip-interval-s", "1e-9"],
             "--gossip-interval-s: must be 0 (answer only) or between 0.1"),
            (["--data", "x", "--config", self.config_file("[gossip]\ngossip_interval_s = 1e-9\n")],
             os.path.join(self.workdir, "node.toml") + ": gossip_interval_s: must be 0 (answer only) or between 0.1"),
            (["--data", "x", "--server-tau", "0"], "--server-tau: must be > 0 (got 0)"),  # checked on any role
        ]:
            with self.subTest(args=args):
                res = subprocess.run([BIN, "run", "--state-dir", os.path.join(self.workdir, "s")] + args,
                                     capture_output=True, text=True, timeout=30)
                self.assertNotEqual(res.returncode, 0)
                self.assertIn(expected, res.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)

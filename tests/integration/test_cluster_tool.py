"""tools/cluster deletes nothing it did not create, keeps the previous run's checkpoints
unless --fresh, leaves no node running when `up` fails, and `watch` runs to its end.
Nodes run for a few seconds only (one or two nodes, a small model)."""
import json
import os
import socket
import subprocess
import tempfile
import time
import unittest

from harness import BIN, DATA, wait_for

CLUSTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "cluster")
NODE_FLAGS = ["--", "--hidden", "16"]


def consecutive_free_ports(n):
    """A port P such that P..P+n-1 are free now (the kernel picks P)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            base = first.getsockname()[1]
            if base + n > 65535:
                continue
            others = [socket.socket() for _ in range(n - 1)]
            try:
                for i, s in enumerate(others, 1):
                    s.bind(("127.0.0.1", base + i))
                return base
            except OSError:
                continue
            finally:
                for s in others:
                    s.close()
    raise AssertionError("no block of free ports")


def pid_running(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


class ClusterToolTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="gl-cluster-")
        self.dir = os.path.join(self.tmp.name, "c")

    def tearDown(self):
        self.cluster("down", "--dir", self.dir)  # whatever a failed assertion left running
        self.tmp.cleanup()

    def cluster(self, *args, timeout=120):
        env = dict(os.environ, GL_BIN=BIN)
        return subprocess.run([CLUSTER] + list(args), capture_output=True, text=True, timeout=timeout, env=env)

    def up(self, n, *more):
        res = self.cluster("up", str(n), "--dir", self.dir, "--static", "--data", DATA,
                           "--base-port", str(consecutive_free_ports(n)), *more, *NODE_FLAGS)
        return res

    def node_pids(self):
        pids = []
        for name in sorted(os.listdir(self.dir)):
            try:
                with open(os.path.join(self.dir, name, "pid")) as f:
                    pids.append(int(f.read()))
            except (OSError, ValueError):
                pass
        return pids

    def test_refuses_a_folder_that_is_not_a_cluster_folder(self):
        os.makedirs(self.dir)
        notes = os.path.join(self.dir, "notes.txt")
        with open(notes, "w") as f:
            f.write("mine")
        res = self.up(1)
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertIn("not a cluster folder", res.stderr)
        self.assertEqual(sorted(os.listdir(self.dir)), ["notes.txt"])  # nothing deleted, nothing added
        with open(notes) as f:
            self.assertEqual(f.read(), "mine")

    def test_a_second_up_resumes_and_fresh_removes_only_what_up_made(self):
        res = self.up(1)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(self.cluster("down", "--dir", self.dir).returncode, 0)
        checkpoint = os.path.join(self.dir, "node-0", "state", "model.ckpt")
        self.assertTrue(os.path.isfile(checkpoint), "down saves a checkpoint")
        mine = os.path.join(self.dir, "mine.txt")
        with open(mine, "w") as f:
            f.write("mine")

        res = self.up(1)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("resume from their checkpoints", res.stdout)
        with open(os.path.join(self.dir, "node-0", "log")) as f:
            self.assertIn("resuming from", f.read())
        self.assertEqual(self.cluster("down", "--dir", self.dir).returncode, 0)
        self.assertTrue(os.path.isfile(mine))

        res = self.up(1, "--fresh")
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(os.path.join(self.dir, "node-0", "log")) as f:
            self.assertNotIn("resuming from", f.read())
        self.assertTrue(os.path.isfile(mine))
        with open(os.path.join(self.dir, ".gossip-learner-cluster")) as f:
            self.assertNotIn("mine.txt", json.load(f)["created"])

    def test_a_failed_up_leaves_no_node_running(self):
        base = consecutive_free_ports(3)
        with socket.socket() as taken:  # node-1's port: node-0 starts, node-1 cannot listen
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            taken.bind(("127.0.0.1", base + 1))
            taken.listen()
            res = self.cluster("up", "3", "--dir", self.dir, "--static", "--data", DATA,
                               "--base-port", str(base), *NODE_FLAGS)
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("node-1", res.stderr)
        self.assertIn("Address already in use", res.stderr)
        pids = self.node_pids()
        self.assertGreaterEqual(len(pids), 2, "node-0 and node-1 were started")
        running = [p for p in pids if pid_running(p)]
        self.assertEqual(running, [], f"nodes left running after a failed up: {running}")

    def test_watch_runs_until_its_last_interval(self):
        os.makedirs(os.path.join(self.dir, "node-0"))  # a cluster folder whose node is stopped
        with open(os.path.join(self.dir, ".gossip-learner-cluster"), "w") as f:
            json.dump({"tool": "tools/cluster", "created": ["node-0"]}, f)
        start = time.monotonic()
        res = self.cluster("watch", "--dir", self.dir, "--seconds", "2", "--every", "1", timeout=60)
        elapsed = time.monotonic() - start
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stdout.count("\n-- ") + res.stdout.startswith("-- "), 3, res.stdout)
        self.assertGreaterEqual(elapsed, 2.0)


if __name__ == "__main__":
    unittest.main(verbosity=2)

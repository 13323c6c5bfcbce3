"""tools/cluster records each node's status while the cluster runs (without `watch`), `down`
stops the recorder, and tools/report turns the recording, or a simulation's curves.csv, into
plots that hold the curves. Skips when the report's python has no matplotlib."""
import csv
import json
import os
import signal
import subprocess
import tempfile
import unittest

from harness import BIN, DATA, wait_for
from test_cluster_tool import consecutive_free_ports, pid_running

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools")
CLUSTER, REPORT = os.path.join(TOOLS, "cluster"), os.path.join(TOOLS, "report")
PLOTS = ["accuracy_over_time.png", "accuracy_over_mb.png", "final_spread.png", "failure_detections.png"]


def report_python():
    with open(REPORT) as f:
        return f.readline()[2:].strip()  # the shebang's interpreter


def has_matplotlib():
    return subprocess.run([report_python(), "-c", "import matplotlib"], capture_output=True).returncode == 0


def curve_pixels(path):
    """Pixels of a plot in matplotlib's first colour (the median curves, the band's edges, the dots)."""
    code = ("import sys, matplotlib.image as m; a = m.imread(sys.argv[1])[:, :, :3]; "
            "d = abs(a[:, :, 0] - 31/255) + abs(a[:, :, 1] - 119/255) + abs(a[:, :, 2] - 180/255); "
            "print(int((d < 0.15).sum()))")
    res = subprocess.run([report_python(), "-c", code, path], capture_output=True, text=True, check=True)
    return int(res.stdout)


def read_series(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f]
    except (OSError, ValueError):
        return []


@unittest.skipUnless(has_matplotlib(), "python3-matplotlib is missing (tools/install-deps installs it)")
class ReportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="gl-report-")
        self.dir = os.path.join(self.tmp.name, "c")

    def tearDown(self):
        subprocess.run([CLUSTER, "down", "--dir", self.dir], capture_output=True, timeout=120,
                       env=dict(os.environ, GL_BIN=BIN))
        self.tmp.cleanup()

    def report(self, run_dir, *more):
        return subprocess.run([REPORT, run_dir, *more], capture_output=True, text=True, timeout=120)

    def assert_plots(self, out_dir):
        for name in PLOTS:
            path = os.path.join(out_dir, name)
            with open(path, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", name)
            # An empty axes has none; one dot has ~100, a curve or band hundreds and more.
            self.assertGreater(curve_pixels(path), 80, name)

    def test_a_cluster_run_is_recorded_without_watch_and_reported(self):
        env = dict(os.environ, GL_BIN=BIN)
        res = subprocess.run([CLUSTER, "up", "2", "--dir", self.dir, "--static", "--data", DATA,
                              "--base-port", str(consecutive_free_ports(2)), "--record-every", "0.5",
                              "--", "--hidden", "16"],
                             capture_output=True, text=True, timeout=180, env=env)
        self.assertEqual(res.returncode, 0, res.stderr)
        series = [os.path.join(self.dir, f"node-{i}", "status.jsonl") for i in range(2)]
        wait_for(lambda: all(sum(1 for r in read_series(p) if r["status"] and r["status"].get("eval")) >= 8
                             for p in series), 90, "8 recorded statuses with an eval accuracy per node")
        first = read_series(series[0])[0]
        self.assertEqual(first["node"], "node-0")
        self.assertNotIn("param_sample", first["status"])
        # The static peer is known from the first record on; it may be suspect there, when node-0
        # probed it before node-1 listened.
        self.assertEqual(sum(first["status"]["peer_states"].values()), 1, first["status"]["peer_states"])
        self.assertTrue(any(r["status"] and r["status"]["peer_states"] == {"alive": 1} for r in read_series(series[0])))
        # A node that stops is recorded as not answering.
        with open(os.path.join(self.dir, "node-1", "pid")) as f:
            os.kill(int(f.read()), signal.SIGKILL)
        wait_for(lambda: read_series(series[1])[-1]["status"] is None, 30, "node-1 recorded as down")
        with open(os.path.join(self.dir, "recorder.pid")) as f:
            recorder = int(f.read())
        self.assertTrue(pid_running(recorder))
        res = subprocess.run([CLUSTER, "down", "--dir", self.dir], capture_output=True, text=True, timeout=120,
                             env=env)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertFalse(pid_running(recorder), "down left the recorder running")

        res = self.report(self.dir)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("2 nodes, tools/cluster run", res.stdout)
        self.assertIn("most nodes down at once: 1", res.stdout)
        self.assert_plots(os.path.join(self.dir, "report"))

    def write_simulation(self, run_dir, nodes=20, times=30):
        """Node k's accuracy climbs to 0.6 + k/100; nodes 0..3 are down from t=100 s on and the
        others mark them dead from t=110 s."""
        os.makedirs(run_dir)
        with open(os.path.join(run_dir, "curves.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["t_s", "node", "up", "accuracy", "mb_sent", "dead_peers"])
            for i in range(times):
                t = 10 * i
                for k in range(nodes):
                    up = not (k < 4 and t >= 100)
                    accuracy = "" if i == 0 else f"{(0.6 + k / 100) * min(1, i / 10):.4f}"
                    w.writerow([t, k, int(up), accuracy, f"{0.3 * i:.2f}", 4 if t >= 110 else 0])
        with open(os.path.join(run_dir, "summary.json"), "w") as f:
            json.dump({"nodes": nodes, "mode": "gossip", "median_accuracy": 0.7}, f)

    def test_a_simulation_folder_is_reported_the_same_way(self):
        run_dir = os.path.join(self.tmp.name, "sim")
        self.write_simulation(run_dir)
        out = os.path.join(self.tmp.name, "plots")
        res = self.report(run_dir, "--out", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("20 nodes, simulation, gossip mode", res.stdout)
        # Nodes 4..19 run at the end: 64..79%, median 71.5%, nearest-rank 10th percentile 65%.
        self.assertIn("median 71.5%, 10th percentile 65.0%, min 64.0%, max 79.0%", res.stdout)
        self.assertIn("most nodes down at once: 4", res.stdout)
        self.assertIn("median_accuracy: 0.7", res.stdout)
        self.assert_plots(out)

    def test_bad_input_gets_a_clear_error(self):
        os.makedirs(self.dir)
        res = self.report(self.dir)
        self.assertEqual(res.returncode, 1)
        self.assertIn("neither curves.csv", res.stderr)
        self.assertIn("status.jsonl", res.stderr)
        with open(os.path.join(self.dir, "curves.csv"), "w") as f:
            f.write("t_s,node,accuracy\n0,0,0.5\n")
        res = self.report(self.dir)
        self.assertEqual(res.returncode, 1)
        self.assertIn("lacks the column(s) dead_peers, mb_sent, up", res.stderr)

    def test_a_line_cut_short_is_skipped_with_a_warning(self):
        node_dir = os.path.join(self.dir, "node-0")
        os.makedirs(node_dir)
        with open(os.path.join(node_dir, "status.jsonl"), "w") as f:
            for t in range(5):
                f.write(json.dumps({"t": 1000 + t, "node": "node-0",
                                    "status": {"eval": {"accuracy": 0.5 + t / 20}, "bytes_sent": t * 1e6,
                                               "peer_states": {}}}) + "\n")
            f.write('{"t": 1005, "node": "node-0", "stat')
        res = self.report(self.dir)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("skipped 1 unreadable line(s)", res.stderr)
        self.assertIn("median 70.0%", res.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)  # prints "skipped '...'", which ctest reports as a skip

"""gossip-learner simulate: virtual nodes learn over the node's own gossip code (median accuracy
well above the majority-class rate), summary.json and curves.csv hold what tools/report reads,
crashed nodes are marked dead by every live node within 5 s of virtual time, the node's own
[training] and [gossip] settings (flags spelled as `run`'s, or --config node.toml) reach the
simulated nodes and its [coordinator] settings rounds mode's coordinator (FedSGD rounds learn
more than the same rounds on Adam steps), and bad input (more nodes than names, a foreign --out folder, a bad node
setting) is refused without touching anything, the same --seed gives the same run, and
bench/simulate/run.sh table prints the four modes' table, rounds at the gossip runs' epochs."""
import collections
import csv
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import BIN, DATA

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

SUMMARY_KEYS = {"nodes", "mode", "median_accuracy", "min_accuracy", "p10_accuracy", "mb_sent_per_node",
                "virtual_s", "wall_s", "peak_rss_mb"}


def gl(*args):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=500)


def read_curves(out):
    with open(os.path.join(out, "curves.csv")) as f:
        return list(csv.DictReader(f))


class SimulateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gl-sim-")
        holdout = os.path.join(cls.tmp, "holdout")
        res = gl("split", "--data", DATA, "--nodes", "10", "--seed", "7", "--out", holdout)
        assert res.returncode == 0, res.stderr
        cls.eval = os.path.join(holdout, "node-0.tsv")
        cls.train = os.path.join(cls.tmp, "train.tsv")
        with open(cls.train, "w") as out:
            for i in range(1, 10):
                with open(os.path.join(holdout, f"node-{i}.tsv")) as f:
                    out.write(f.read())
        with open(cls.train) as f:
            cls.names = sum(1 for line in f if line.strip())

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def simulate(self, out, *extra):
        return gl("simulate", "--data", self.train, "--eval-data", self.eval, "--out", out, *extra)

    def test_twenty_nodes_learn_and_write_the_report_inputs(self):
        out = os.path.join(self.tmp, "learn")
        res = self.simulate(out, "--nodes", "20", "--duration", "90", "--sample-every", "30")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("accuracy median", res.stdout)  # progress lines
        with open(os.path.join(out, "summary.json")) as f:
            summary = json.load(f)
        self.assertLessEqual(SUMMARY_KEYS, set(summary))
        self.assertEqual((summary["nodes"], summary["mode"]), (20, "gossip"))
        with open(self.eval) as f:
            labels = collections.Counter(line.rstrip("\n").split("\t")[1] for line in f if line.strip())
        majority = max(labels.values()) / sum(labels.values())
        self.assertGreater(summary["median_accuracy"], majority + 0.08, summary)
        self.assertGreater(summary["mb_sent_per_node"], 1, summary)  # the engines exchanged models
        self.assertAlmostEqual(summary["virtual_s"], 90, delta=0.01)
        rows = read_curves(out)
        self.assertEqual(set(rows[0]), {"t_s", "node", "up", "accuracy", "mb_sent", "dead_peers"})
        self.assertEqual(len(rows), 20 * 4)  # t = 0, 30, 60, 90
        self.assertEqual({r["node"] for r in rows}, {f"node-{i}" for i in range(20)})

    def test_rounds_mode_runs_the_coordinators_rounds(self):
        out = os.path.join(self.tmp, "rounds")
        # Slow virtual training: a round (one local epoch) then takes ~1.5 s of virtual time.
        res = self.simulate(out, "--mode", "rounds", "--nodes", "10", "--hidden", "32", "--samples-per-s", "1000",
                            "--duration", "30", "--sample-every", "15")
        self.assertEqual(res.returncode, 0, res.stderr)
        last = [line for line in res.stdout.splitlines() if line.startswith("t ")][-1]
        self.assertGreaterEqual(int(last.rsplit("rounds ", 1)[1]), 5, last)
        with open(os.path.join(out, "summary.json")) as f:
            summary = json.load(f)
        self.assertEqual(summary["mode"], "rounds")
        self.assertGreater(summary["median_accuracy"], 0.55, summary)  # the global model learnt
        # Trained models went back: 5+ replies of an int8-coded model of ~12k values (~13 KB each) at least.
        self.assertGreater(summary["mb_sent_per_node"], 0.06, summary)

    def test_an_epoch_limit_stops_at_the_limit_not_at_the_next_scoring(self):
        # Rounds train a local epoch in well under a second of virtual time; scorings are 30 s apart.
        out = os.path.join(self.tmp, "rounds-epochs")
        res = self.simulate(out, "--mode", "rounds", "--nodes", "6", "--hidden", "16", "--duration", "0",
                            "--epochs", "3", "--sample-every", "30")
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(os.path.join(out, "summary.json")) as f:
            summary = json.load(f)
        self.assertGreaterEqual(summary["mean_epochs"], 3, summary)
        self.assertLess(summary["mean_epochs"], 4, summary)
        self.assertLess(summary["virtual_s"], 30, summary)
        self.assertEqual({float(r["t_s"]) for r in read_curves(out)}, {0, summary["virtual_s"]})  # scored at the end

    def rounds_until_epochs(self, name, *extra):
        out = os.path.join(self.tmp, name)
        res = self.simulate(out, "--mode", "rounds", "--nodes", "6", "--hidden", "16", "--duration", "0",
                            "--epochs", "6", "--sample-every", "30", *extra)
        self.assertEqual(res.returncode, 0, res.stderr)
        last = [line for line in res.stdout.splitlines() if line.startswith("t ")][-1]
        return int(last.rsplit("rounds ", 1)[1])

    def test_rounds_mode_takes_the_round_settings_of_config(self):
        # A node's local epochs count from 1 at the start; a round is one more by default, so 6
        # epochs take 5 rounds, and 2 at 3 local epochs a round.
        self.assertGreaterEqual(self.rounds_until_epochs("rounds-default"), 5)
        config = os.path.join(self.tmp, "rounds.toml")
        with open(config, "w") as f:
            f.write('[coordinator]\nlocal_epochs = 3\nclient_lr = 0.02\nlr_decay = 1.0\n')
        self.assertLessEqual(self.rounds_until_epochs("rounds-config", "--config", config), 2)
        self.assertLessEqual(self.rounds_until_epochs("rounds-flag", "--local-epochs", "3"), 2)  # run's flag
        with open(config, "w") as f:
            f.write('[coordinator]\nfraction = 2.0\n')
        out = os.path.join(self.tmp, "rounds-bad")
        res = self.simulate(out, "--mode", "rounds", "--nodes", "2", "--duration", "1", "--config", config)
        self.assertEqual(res.returncode, 2)
        self.assertIn("fraction", res.stderr)
        self.assertFalse(os.path.exists(out))

    def test_fedsgd_rounds_learn_more_than_the_same_rounds_with_adam_steps(self):
        # bench/simulate/rounds-1000.toml (participants take SGD steps, the server Adam) on 200
        # nodes of ~73 names; with the participants on Adam instead (at the same rate) the same
        # rounds learn less: the optimizer field reaches them and they train with it.
        config = os.path.join(REPO, "bench", "simulate", "rounds-1000.toml")
        medians = {}
        for optimizer in ("sgd", "adam"):
            out = os.path.join(self.tmp, "fedsgd-" + optimizer)
            res = self.simulate(out, "--mode", "rounds", "--nodes", "200", "--hidden", "32", "--duration", "0",
                                "--epochs", "8", "--sample-every", "30", "--config", config,
                                "--client-optimizer", optimizer)
            self.assertEqual(res.returncode, 0, res.stderr)
            with open(os.path.join(out, "summary.json")) as f:
                medians[optimizer] = json.load(f)["median_accuracy"]
        self.assertGreater(medians["sgd"], 0.68, medians)  # majority class: 51.7%
        self.assertGreater(medians["sgd"], medians["adam"] + 0.03, medians)

    def test_crashed_nodes_are_dead_to_every_live_node_within_5_s(self):
        out = os.path.join(self.tmp, "churn")
        res = self.simulate(out, "--nodes", "20", "--peers", "19", "--hidden", "16", "--duration", "40",
                            "--sample-every", "1", "--crash", "0.2@20")
        self.assertEqual(res.returncode, 0, res.stderr)
        rows = read_curves(out)
        crashed = {r["node"] for r in rows if r["up"] == "0"}
        self.assertEqual(len(crashed), 4)
        for r in rows:
            t = float(r["t_s"])
            if r["up"] != "1":
                self.assertGreaterEqual(t, 20, r)
                continue
            if t < 20:
                self.assertEqual(r["dead_peers"], "0", r)
            elif t >= 25:
                self.assertEqual(r["dead_peers"], "4", r)  # every crashed node, by every live one

    def test_a_partition_is_seen_and_heals(self):
        out = os.path.join(self.tmp, "partition")
        res = self.simulate(out, "--nodes", "20", "--peers", "19", "--hidden", "16", "--duration", "75",
                            "--sample-every", "5", "--partition", "10-30", "--latency-ms", "2")
        self.assertEqual(res.returncode, 0, res.stderr)
        rows = read_curves(out)
        during = [int(r["dead_peers"]) for r in rows if float(r["t_s"]) == 25]
        after = [int(r["dead_peers"]) for r in rows if float(r["t_s"]) == 75]
        self.assertEqual(len(during), 20)
        self.assertGreater(min(during), 0, during)  # each node lost the other half
        self.assertEqual(max(after), 0, after)  # and found it again after the heal (backoff <= 30 s)

    def test_joins_and_online_share(self):
        out = os.path.join(self.tmp, "sessions")
        res = self.simulate(out, "--nodes", "20", "--hidden", "16", "--duration", "400", "--sample-every", "5",
                            "--join", "0.5@30", "--online-share", "0.5", "--session", "20")
        self.assertEqual(res.returncode, 0, res.stderr)
        rows = read_curves(out)
        early = [r for r in rows if float(r["t_s"]) < 30]
        late = [r for r in rows if float(r["t_s"]) >= 30]
        early_up = {r["node"] for r in early if r["up"] == "1"}
        self.assertLessEqual(len(early_up), 10, early_up)  # half the nodes join only at 30 s
        share = sum(r["up"] == "1" for r in late) / len(late)
        self.assertGreater(share, 0.35, share)  # each node online about half the time
        self.assertLess(share, 0.65, share)

    def mb_sent_per_node(self, name, *extra):
        out = os.path.join(self.tmp, name)
        res = self.simulate(out, "--nodes", "4", "--hidden", "16", "--duration", "30", "--sample-every", "15", *extra)
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(os.path.join(out, "summary.json")) as f:
            return json.load(f)["mb_sent_per_node"]

    def test_the_nodes_codecs_setting_reaches_the_simulated_engines(self):
        # The default codecs negotiate int8 (1 byte a weight); fp32 alone sends 4 bytes a weight.
        default = self.mb_sent_per_node("codecs-default")
        fp32 = self.mb_sent_per_node("codecs-fp32", "--codecs", "fp32")
        self.assertGreater(fp32 / default, 3, (fp32, default))
        # The same from a node.toml; its [node] section is skipped, not refused.
        config = os.path.join(self.tmp, "node.toml")
        with open(config, "w") as f:
            f.write('[node]\nid = "elsewhere"\n[gossip]\ncodecs = ["fp32"]\n')
        from_file = self.mb_sent_per_node("codecs-file", "--config", config)
        self.assertGreater(from_file / default, 3, (from_file, default))

    def churned_curves(self, name, seed):
        out = os.path.join(self.tmp, name)
        res = self.simulate(out, "--nodes", "6", "--hidden", "16", "--duration", "20", "--sample-every", "5",
                            "--seed", str(seed), "--loss", "0.1", "--latency-ms", "3", "--crash", "0.2@8",
                            "--online-share", "0.8", "--session", "5")
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(os.path.join(out, "curves.csv"), "rb") as f:
            return f.read()

    def test_the_same_seed_gives_the_same_curves_and_another_seed_others(self):
        first = self.churned_curves("seed-3a", 3)
        self.assertGreater(first.count(b"\n"), 6 * 5)  # a header and 6 nodes at t = 0, 5, 10, 15, 20
        self.assertEqual(first, self.churned_curves("seed-3b", 3))
        self.assertNotEqual(first, self.churned_curves("seed-4", 4))

    def test_the_bench_table_compares_the_four_modes_at_the_gossip_runs_epochs(self):
        env = dict(os.environ, GL_BIN=os.path.abspath(BIN), WORK=os.path.join(self.tmp, "bench"), NODES="3",
                   DURATION="6", SIM_FLAGS="--hidden 16")
        res = subprocess.run(["bench/simulate/run.sh", "table"], cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=300)
        self.assertEqual(res.returncode, 0, res.stderr)
        lines = res.stdout.splitlines()
        self.assertEqual(lines[0], "| mode | scheme | median | p10 | min | MB sent/node | local epochs | virtual s "
                                   "| CPU s |")
        rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]
        self.assertEqual([(r[0], r[1]) for r in rows],
                         [("gossip", "iid"), ("rounds", "iid"), ("local", "iid"), ("gossip", "dirichlet"),
                          ("rounds", "dirichlet"), ("local", "dirichlet"), ("central", "all data")], res.stdout)
        for gossip, rounds in ((rows[0], rows[1]), (rows[3], rows[4])):
            # Scored on the global model of the round before: one local epoch more than gossip's.
            target = max(1, round(float(gossip[6]))) + 1
            self.assertGreaterEqual(float(rounds[6]), target, res.stdout)
            self.assertLess(float(rounds[6]), target + 1, res.stdout)
        for r in rows:
            self.assertEqual(len(r), 9, r)
            self.assertTrue(all(r[c].endswith("%") for c in (2, 3, 4)), r)
            self.assertGreaterEqual(float(r[8]), 0, r)  # CPU seconds: a run this small can round to 0.0
        self.assertGreater(sum(float(r[8]) for r in rows), 0, res.stdout)
        self.assertEqual([float(r[7]) for r in rows if r[0] != "rounds"], [6.0] * 5)  # DURATION virtual s

    def test_a_bad_node_setting_is_refused_naming_the_flag(self):
        out = os.path.join(self.tmp, "bad-merge")
        res = self.simulate(out, "--nodes", "2", "--duration", "1", "--merge", "median")
        self.assertEqual(res.returncode, 2)
        self.assertIn("--merge", res.stderr)
        self.assertIn("age-weighted", res.stderr)  # and says what it accepts
        self.assertFalse(os.path.exists(out))
        res = self.simulate(out, "--nodes", "2", "--duration", "1", "--clip-window", "1")  # out of range
        self.assertEqual(res.returncode, 2)
        self.assertIn("--clip-window", res.stderr)
        self.assertFalse(os.path.exists(out))

    def test_more_nodes_than_names_is_refused_with_the_largest_n(self):
        out = os.path.join(self.tmp, "too-many")
        res = self.simulate(out, "--nodes", str(self.names + 1))
        self.assertEqual(res.returncode, 1)
        self.assertIn(f"the most nodes possible is {self.names}", res.stderr)
        self.assertFalse(os.path.exists(out))

    def test_a_foreign_out_folder_is_refused_and_kept(self):
        out = os.path.join(self.tmp, "foreign")
        os.makedirs(out)
        with open(os.path.join(out, "notes.txt"), "w") as f:
            f.write("mine")
        res = self.simulate(out, "--nodes", "2", "--duration", "1")
        self.assertEqual(res.returncode, 1)
        self.assertIn("notes.txt", res.stderr)
        self.assertEqual(os.listdir(out), ["notes.txt"])
        with open(os.path.join(out, "notes.txt")) as f:
            self.assertEqual(f.read(), "mine")


if __name__ == "__main__":
    unittest.main()

"""The offline commands meet bad input with a clear error and exit 1 or 2, never an abort:
a model path that is a folder, names with nothing to read, an unwritable --out, --nodes 0;
predict reads stdin (BOM, CRLF, blank lines) and prints JSON; split leaves no stale shards."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import BIN, DATA

EMOJI = "\U0001F600"


def gl(*args, stdin=None):
    return subprocess.run([BIN] + list(args), input=stdin, capture_output=True, text=True, timeout=300)


class ModelCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gl-cli-")
        shards = os.path.join(cls.tmp, "shards")
        res = gl("split", "--data", DATA, "--nodes", "8", "--out", shards)
        assert res.returncode == 0, res.stderr
        cls.data = os.path.join(shards, "node-0.tsv")
        cls.model = os.path.join(cls.tmp, "model.glm")
        res = gl("train", "--data", cls.data, "--epochs", "1", "--hidden", "8", "--out", cls.model)
        assert res.returncode == 0, res.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_readme_names_trains_default_out(self):
        """The README's command table shows train's --out as the binary's default."""
        res = gl("train", "--help")
        self.assertEqual(res.returncode, 0, res.stderr)
        default = next(line.split("=", 1)[1].split()[0] for line in res.stdout.splitlines() if "--out" in line)
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")) as readme:
            row = next(line for line in readme if line.startswith("| `gossip-learner train "))
        self.assertIn(f"--out {default}", row)

    def test_a_folder_as_model_is_a_clear_error(self):
        for args in (["predict", "--model", self.tmp, "Smith"], ["eval", "--model", self.tmp, "--data", self.data]):
            with self.subTest(command=args[0]):
                res = gl(*args)
                self.assertIn(res.returncode, (1, 2), res.stderr)
                self.assertIn("is a folder", res.stderr)
                self.assertNotIn("terminate called", res.stderr)

    def test_names_with_nothing_to_read_are_refused_and_the_rest_answered(self):
        res = gl("predict", "--model", self.model, "", "   ", EMOJI, "123", "Smith")
        self.assertEqual(res.returncode, 1)
        self.assertEqual(res.stdout.splitlines()[0].split(":")[0], "Smith")
        self.assertEqual(len(res.stdout.splitlines()), 1, res.stdout)
        self.assertIn("empty name", res.stderr)
        self.assertIn("blank name", res.stderr)
        self.assertEqual(res.stderr.count("no letter the model knows"), 2, res.stderr)

    def test_some_unknown_characters_are_flagged(self):
        res = gl("predict", "--model", self.model, "Ab" + EMOJI)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("1 of 3 characters unknown", res.stdout)

    def test_reads_names_from_stdin(self):
        stdin = "\ufeffSmith\r\n\nM\u00fcller\nNguy\u1ec5n\n"
        for args in ([], ["-"]):
            with self.subTest(args=args):
                res = gl("predict", "--model", self.model, *args, stdin=stdin)
                self.assertEqual(res.returncode, 0, res.stderr)
                names = [line.split(":")[0] for line in res.stdout.splitlines()]
                self.assertEqual(names, ["Smith", "M\u00fcller", "Nguy\u1ec5n"])

    def test_folded_and_decomposed_names_score_as_their_base_letters(self):
        res = gl("predict", "--model", self.model, "--json", "Nguy\u1ec5n", "Nguyen", "Mu\u0308ller", "Muller")
        self.assertEqual(res.returncode, 0, res.stderr)
        rows = [json.loads(line) for line in res.stdout.splitlines()]
        self.assertEqual(rows[0]["top"], rows[1]["top"])
        self.assertEqual(rows[2]["top"], rows[3]["top"])
        self.assertNotIn("unknown_characters", rows[2])

    def test_json_prints_one_object_per_name(self):
        res = gl("predict", "--model", self.model, "--json", "Smith", EMOJI, stdin="")
        self.assertEqual(res.returncode, 1)
        rows = [json.loads(line) for line in res.stdout.splitlines()]
        self.assertEqual(len(rows), 2)
        self.assertEqual(rows[0]["name"], "Smith")
        self.assertEqual(len(rows[0]["top"]), 3)
        self.assertLessEqual(sum(t["probability"] for t in rows[0]["top"]), 1.0 + 1e-6)
        self.assertGreaterEqual(rows[0]["top"][0]["probability"], rows[0]["top"][1]["probability"])
        self.assertEqual(rows[1]["name"], EMOJI)
        self.assertIn("no letter", rows[1]["error"])

    def test_train_checks_out_before_training(self):
        res = gl("train", "--data", self.data, "--epochs", "1", "--hidden", "8",
                 "--out", os.path.join(self.tmp, "no", "such", "model.glm"))
        self.assertEqual(res.returncode, 1)
        self.assertIn("no/such", res.stderr)
        self.assertNotIn("epoch", res.stdout)

    def test_split_nodes_zero_says_what_it_wants(self):
        res = gl("split", "--data", self.data, "--nodes", "0", "--out", os.path.join(self.tmp, "zero"))
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("must be > 0", res.stderr)
        self.assertLess(len(res.stderr), 200, res.stderr)

    def test_split_removes_its_own_stale_shards_only(self):
        out = os.path.join(self.tmp, "resplit")
        self.assertEqual(gl("split", "--data", self.data, "--nodes", "4", "--out", out).returncode, 0)
        for name in ("keep.txt", "node-notes.tsv"):
            with open(os.path.join(out, name), "w") as f:
                f.write("mine")
        self.assertEqual(gl("split", "--data", self.data, "--nodes", "2", "--out", out).returncode, 0)
        self.assertEqual(sorted(os.listdir(out)), ["keep.txt", "node-0.tsv", "node-1.tsv", "node-notes.tsv"])


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""A node's state dir, its checkpoints and the model a user takes home.

- SIGHUP (an SSH logout) stops the node like SIGTERM: a checkpoint is written, exit code 0; a
  SIGHUP during start-up (the node reading its data) too, once the node has started.
- A second node on the same state dir is refused, naming the first one's pid; the first runs on.
- The accuracy the status reports is that of <state_dir>/model.bin (`gossip-learner eval` on it
  gives the same number), while model.ckpt holds the raw weights a restart resumes from.
- A model.ckpt that is a folder: the node resumes from model.prev.ckpt instead of aborting.
- A full disk (a small tmpfs; needs root): a checkpoint that does not fit leaves no temporary
  file and the last good one untouched, which a restart resumes; with a previous checkpoint to
  spare, the node deletes it to make room and keeps saving its progress.
"""
import glob
import errno
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import unittest

from harness import BIN, ClusterTestCase, wait_for

COMMON = ["--hidden", "32", "--discovery", "static", "--gossip-interval-s", "0", "--eval-interval-s", "1",
          "--checkpoint-interval-s", "0"]


def read_text(f, offset):
    (size,) = struct.unpack_from("<I", f, offset)
    return f[offset + 4:offset + 4 + size], offset + 4 + size


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def checkpoint(path):
    """(age, parameters) of a checkpoint file (src/node/checkpoint.h), its checksum verified."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"GLCKPT2\n", path
    assert struct.unpack_from("<Q", data, len(data) - 8)[0] == fnv1a64(data[:-8]), f"{path}: checksum"
    age, _epochs = struct.unpack_from("<QQ", data, 8)
    _signature, offset = read_text(data, 24)
    (count,) = struct.unpack_from("<Q", data, offset)
    return age, struct.unpack_from(f"<{count}f", data, offset + 8)


def model_parameters(path):
    """The parameters of a model file (src/nn/model_file.h)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"GLMODEL\n", path
    offset = 8 + 4 * 4
    _labels, offset = read_text(data, offset)
    _signature, offset = read_text(data, offset)
    (count,) = struct.unpack_from("<Q", data, offset)
    return struct.unpack_from(f"<{count}f", data, offset + 8)


class NodeStateTest(ClusterTestCase):
    def log_of(self, node):
        with open(node.log_path, errors="replace") as f:
            return f.read()

    def trained(self, node, age=1000):
        return wait_for(lambda: (lambda s: s and s["model_age"] >= age and s)(node.status()), 60, "some training")

    def test_sighup_saves_a_checkpoint_and_exits_cleanly(self):
        shards, _ = self.make_shards(1)
        node = self.add_node("hup", shards[0], COMMON)
        node.start().wait_ready()
        self.trained(node)
        ckpt = os.path.join(node.state_dir, "model.ckpt")
        self.assertFalse(os.path.exists(ckpt), "checkpoint-interval 0: nothing saved before the signal")
        self.assertEqual(node.stop(signal.SIGHUP), 0)
        self.assertIn("saving a checkpoint and shutting down", self.log_of(node))
        age, _ = checkpoint(ckpt)
        self.assertGreaterEqual(age, 1000)

    def test_sighup_during_start_up_stops_the_node_cleanly_once_started(self):
        shards, _ = self.make_shards(1)
        fifo = os.path.join(self.workdir, "data.tsv")
        os.mkfifo(fifo)  # the node blocks reading it: the signal lands mid-start-up, for sure
        node = self.add_node("early-hup", fifo, COMMON)
        node.start()

        def writer():
            try:
                return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # ENXIO until the node opens it
            except OSError as e:
                if e.errno != errno.ENXIO:
                    raise
                self.assertIsNone(node.proc.poll(), f"exited before reading its data:\n{node.log_tail()}")
                return None
        fd = wait_for(writer, 30, "the node to open its data", interval=0.02)
        node.proc.send_signal(signal.SIGHUP)
        os.set_blocking(fd, True)
        with open(shards[0], "rb") as f, os.fdopen(fd, "wb") as out:
            try:
                out.write(f.read())
            except BrokenPipeError:
                pass  # killed by the signal: the return code below says so
        code = node.proc.wait(60)
        node.log.close()
        self.assertEqual(code, 0, f"killed by signal {-code}" if code < 0 else node.log_tail())
        self.assertIn("saving a checkpoint and shutting down", self.log_of(node))
        _age, params = checkpoint(os.path.join(node.state_dir, "model.ckpt"))  # complete, checksum verified
        self.assertGreater(len(params), 0)

    def test_second_node_on_the_same_state_dir_is_refused(self):
        shards, _ = self.make_shards(1)
        first = self.add_node("first", shards[0], COMMON)
        first.start().wait_ready()
        second = self.add_node("second", shards[0], COMMON)
        second.state_dir = first.state_dir
        second.start(["--status-socket", os.path.join(self.workdir, "second.sock")])
        wait_for(lambda: not second.alive(), 30, "the second node to give up")
        second.log.close()
        self.assertNotEqual(second.proc.returncode, 0)
        self.assertIn(f"is in use by process {first.proc.pid}", self.log_of(second))
        self.assertTrue(first.alive())
        self.assertTrue(first.status())
        self.assertEqual(first.stop(), 0)

    def test_reported_accuracy_is_that_of_the_model_to_take_home(self):
        shards, eval_file = self.make_shards(2)
        args = ["--hidden", "32", "--discovery", "static", "--gossip-interval-s", "0.5", "--checkpoint-interval-s", "0",
                "--eval-data", eval_file]
        a = self.add_node("a", shards[0], args + ["--eval-interval-s", "2"])
        b = self.add_node("b", shards[1], args + ["--eval-interval-s", "2"])
        a.extra += ["--peers", b.address]
        b.extra += ["--peers", a.address]
        for node in (a, b):
            node.start()
        for node in (a, b):
            node.wait_ready()

        def smoothed_and_saved():
            s = a.status()
            return s and s["eval"] and s["scored_model"]["weights"] == "smoothed" and s["scored_model"]["saved"] and s
        wait_for(smoothed_and_saved, 90, "a smoothed model to be scored and saved")

        def scored_and_evaluated():
            before = a.status()
            path = before["scored_model"]["path"]
            res = subprocess.run([BIN, "eval", "--model", path, "--data", eval_file, "--json"],
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(res.returncode, 0, res.stderr)
            after = a.status()
            same_model = after["scored_model"] == before["scored_model"]
            return same_model and (before, json.loads(res.stdout))
        status, evaluated = wait_for(scored_and_evaluated, 60, "an evaluation not overtaken by the next one")
        self.assertEqual(status["scored_model"]["path"], os.path.join(a.state_dir, "model.bin"))
        self.assertAlmostEqual(evaluated["accuracy"], status["eval"]["accuracy"], delta=1e-9)
        self.assertEqual(evaluated["samples"], status["eval"]["samples"])

        # model.ckpt holds the raw weights, not the exported ones, and a restart resumes from them:
        # its first evaluation, before any training or merge, scores and exports exactly those.
        b.stop()
        self.assertEqual(a.stop(), 0)
        self.assertRegex(self.log_of(a), r"scored: smoothed weights, saved to \S+model\.bin")
        _, raw = checkpoint(os.path.join(a.state_dir, "model.ckpt"))
        self.assertNotEqual(raw, model_parameters(os.path.join(a.state_dir, "model.bin")))
        a.extra = args + ["--eval-interval-s", "600", "--peers", b.address]  # only the evaluation at the start
        a.start().wait_ready()
        wait_for(lambda: "scored: raw weights" in self.log_of(a).split("resuming from")[-1], 30, "the first evaluation")
        self.assertEqual(model_parameters(os.path.join(a.state_dir, "model.bin")), raw)

    def test_newest_checkpoint_that_is_a_folder_falls_back_to_the_previous(self):
        shards, _ = self.make_shards(1)
        node = self.add_node("dir", shards[0], COMMON)
        node.start().wait_ready()
        self.trained(node)
        self.assertEqual(node.stop(), 0)
        node.start().wait_ready()
        self.assertEqual(node.stop(), 0)
        newest = os.path.join(node.state_dir, "model.ckpt")
        os.remove(newest)
        os.mkdir(newest)
        node.start().wait_ready()
        path, age = re.findall(r"resuming from (\S+) \(age (\d+)\)", self.log_of(node))[-1]
        self.assertEqual(path, os.path.join(node.state_dir, "model.prev.ckpt"))
        self.assertGreaterEqual(int(age), 1000)
        self.assertIn("model.ckpt: is a folder", self.log_of(node))
        self.assertEqual(node.stop(), 0)

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("mount"), "needs root to mount a small tmpfs")
    def test_full_disk_keeps_the_last_good_checkpoint(self):
        shards, _ = self.make_shards(1)
        args = ["--hidden", "32", "--discovery", "static", "--gossip-interval-s", "0", "--eval-interval-s", "1"]
        node = self.add_node("full", shards[0], args + ["--checkpoint-interval-s", "0"])
        os.makedirs(node.state_dir)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", node.state_dir], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", node.state_dir])
        newest = os.path.join(node.state_dir, "model.ckpt")
        previous = os.path.join(node.state_dir, "model.prev.ckpt")
        filler = os.path.join(node.state_dir, "filler")

        def fill():
            with open(filler, "ab", buffering=0) as f:
                try:
                    while True:
                        f.write(b"\0" * 4096)
                except OSError:
                    pass

        def resumed_from():
            log_size = os.path.getsize(node.log_path)
            node.start().wait_ready()
            return re.findall(r"resuming from (\S+) \(age (\d+)\)", self.log_of(node)[log_size:])

        # 1. One checkpoint, then a disk with no room for another: the final save fails, cleanly.
        node.start().wait_ready()
        self.trained(node)
        self.assertEqual(node.stop(), 0)
        with open(newest, "rb") as f:
            kept = f.read()
        node.start().wait_ready()
        fill()
        self.assertEqual(node.stop(), 0)
        self.assertIn("checkpoint failed (training goes on): I/O error: writing " + newest, self.log_of(node))
        self.assertIn("No space left on device", self.log_of(node))
        self.assertEqual(glob.glob(os.path.join(node.state_dir, "*.tmp.*")), [], "a temporary file was left")
        with open(newest, "rb") as f:
            self.assertEqual(f.read(), kept, "a failed checkpoint changed the last good one")
        self.assertFalse(os.path.exists(previous), "a failed checkpoint rotated the last good one away")
        kept_age, _ = checkpoint(newest)
        self.assertEqual(resumed_from(), [(newest, str(kept_age))])

        # 2. With a previous checkpoint to spare, a full disk keeps getting the newest progress.
        node.stop()
        os.remove(filler)
        node.extra = args + ["--checkpoint-interval-s", "1"]
        node.start().wait_ready()
        wait_for(lambda: os.path.exists(previous) and checkpoint(newest)[0] > kept_age, 60, "two checkpoints")
        fill()
        full_age = checkpoint(newest)[0]
        wait_for(lambda: "to make room for the new checkpoint" in self.log_of(node), 30, "a checkpoint on a full disk")
        wait_for(lambda: checkpoint(newest)[0] > full_age, 30, "newer checkpoints on the full disk")
        self.assertEqual(node.stop(), 0)
        self.assertEqual(glob.glob(os.path.join(node.state_dir, "*.tmp.*")), [], "a temporary file was left")
        final_age, _ = checkpoint(newest)
        self.assertEqual(resumed_from(), [(newest, str(final_age))])
        self.assertEqual(node.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)

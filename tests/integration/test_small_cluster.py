"""A small cluster learns: three real node processes on loopback, IID shards, gossiping.

Every node must score well above the majority-class rate of the common eval file (by
MARGIN) within the deadline, having exchanged models. Short enough for the arm64 binary
under qemu-user in CI (tools/test-arm64 runs it with GL_BIN pointing at a qemu wrapper);
GL_TIME_SCALE stretches the deadline on slow machines.
"""
import collections
import os
import unittest

from harness import ClusterTestCase, wait_for

MARGIN = 0.10
DEADLINE_S = 240 * float(os.environ.get("GL_TIME_SCALE", "1"))
COMMON = ["--hidden", "32", "--seed", "1", "--eval-interval-s", "2", "--checkpoint-interval-s", "0",
          "--discovery", "static", "--cluster", "it-small", "--gossip-interval-s", "0.5"]


def majority_rate(tsv):
    with open(tsv, encoding="utf-8") as f:
        labels = collections.Counter(line.rstrip("\n").split("\t")[1] for line in f if "\t" in line)
    return max(labels.values()) / sum(labels.values())


class SmallClusterTest(ClusterTestCase):
    def test_three_nodes_learn_well_above_the_majority_class(self):
        shards, eval_file = self.make_shards(3, scheme="iid", seed=5)
        target = majority_rate(eval_file) + MARGIN
        nodes = [self.add_node(f"n{i}", shards[i], COMMON + ["--eval-data", eval_file]) for i in range(3)]
        for node in nodes:
            for other in nodes:
                if other is not node:
                    node.extra += ["--peers", other.address]
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_ready(timeout=120)

        last = {}

        def all_learned():
            statuses = [n.status() for n in nodes]
            if any(s is None or s["eval"] is None for s in statuses):
                return False
            last.update(accuracy=[s["eval"]["accuracy"] for s in statuses],
                        exchanges=[s["exchanges_ok"] for s in statuses], target=target)
            print(f"accuracy {last['accuracy']} (target {target:.3f}), exchanges {last['exchanges']}", flush=True)
            return min(last["accuracy"]) >= target and min(last["exchanges"]) > 0

        try:
            wait_for(all_learned, DEADLINE_S, f"every node to score >= {target:.3f} (majority class + {MARGIN})",
                     interval=3)
        finally:
            print("last figures:", last)


if __name__ == "__main__":
    unittest.main(verbosity=2)

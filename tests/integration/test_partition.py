"""A 6-node cluster split into two halves that cannot reach each other, then healed.

While partitioned, each half knows only its own peers (static discovery) and the halves drift
apart (they also start from different seeds). Healing restarts every node, from its
checkpoint, with all five peers: the halves must converge to one model again.
"""
import unittest

from harness import ClusterTestCase, l2, wait_for

COMMON = ["--hidden", "32", "--discovery", "static", "--gossip-interval-s", "0.5", "--eval-interval-s", "2",
          "--checkpoint-interval-s", "0"]


def spread(statuses, a, b):
    """Largest param_sample distance between a node of group a and one of group b."""
    return max(l2(statuses[i]["param_sample"], statuses[j]["param_sample"]) for i in a for j in b if i != j)


class PartitionTest(ClusterTestCase):
    def test_halves_converge_after_the_partition_heals(self):
        shards, eval_file = self.make_shards(6)
        halves = [range(0, 3), range(3, 6)]
        nodes = [self.add_node(f"n{i}", shards[i], COMMON + ["--seed", str(1 + i // 3), "--eval-data", eval_file])
                 for i in range(6)]
        for half in halves:
            for i in half:
                nodes[i].extra += [f"--peers={nodes[j].address}" for j in half if j != i]
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_ready()

        def partitioned():
            s = [node.status() for node in nodes]
            if any(x is None or x["exchanges_ok"] < 10 for x in s):
                return None
            within = max(spread(s, h, h) for h in halves)
            across = spread(s, halves[0], halves[1])
            return across > 3 * within and (within, across, s)

        within, across, split = wait_for(partitioned, 90, "each half to mix inside while the halves stay apart")
        for node in nodes:  # nobody talked across the partition
            peers = {p["address"] for p in node.status()["peers"]}
            self.assertEqual(len(peers), 2, peers)

        for i, node in enumerate(nodes):
            self.assertEqual(node.stop(), 0)
            node.extra += [f"--peers={nodes[j].address}" for j in range(6) if j not in halves[i // 3]]
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_ready()

        def healed():
            s = [node.status() for node in nodes]
            if any(x is None for x in s):
                return None
            everyone = range(6)
            return spread(s, everyone, everyone) < max(2 * within, across / 4) and s

        merged = wait_for(healed, 90, f"the halves to converge (spread within {within:.2f}, across {across:.2f})")
        self.assertTrue(all(len(x["peers"]) == 5 for x in merged))
        self.assertTrue(all(x["exchanges_ok"] > 0 for x in merged))


if __name__ == "__main__":
    unittest.main(verbosity=2)

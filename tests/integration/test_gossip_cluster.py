"""Four real node processes on loopback, non-IID (Dirichlet 0.3) shards.

Beside them, four local-only nodes train on the same shards without exchanging. Within a
deadline, every gossiping node must beat the best local-only node on the common eval file
by 2 points (the best local-only node holds about half of the data here), and the gossiping nodes' models must be much closer to each other than
the local-only ones are.
"""
import unittest

from harness import ClusterTestCase, max_pairwise_distance, wait_for

COMMON = ["--hidden", "64", "--seed", "1", "--eval-interval-s", "2", "--checkpoint-interval-s", "0",
          "--discovery", "static", "--cluster", "it-gossip"]


class GossipClusterTest(ClusterTestCase):
    def test_gossip_beats_local_only_and_models_converge(self):
        shards, eval_file = self.make_shards(4, scheme="dirichlet", alpha=0.3, seed=3)
        gossiping = [self.add_node(f"g{i}", shards[i], COMMON + ["--eval-data", eval_file, "--gossip-interval-s", "0.5"])
                     for i in range(4)]
        local_only = [self.add_node(f"l{i}", shards[i], COMMON + ["--eval-data", eval_file, "--gossip-interval-s", "0"])
                      for i in range(4)]
        for node in gossiping:
            others = [p.address for p in gossiping if p is not node]
            node.extra += sum((["--peers", a] for a in others), [])
        for node in gossiping + local_only:
            node.start()
        for node in gossiping + local_only:
            node.wait_ready()

        last = {}

        def learned_together():
            g = [n.status() for n in gossiping]
            l = [n.status() for n in local_only]
            if any(s is None or s["eval"] is None for s in g + l):
                return False
            best_local = max(s["eval"]["accuracy"] for s in l)
            worst_gossip = min(s["eval"]["accuracy"] for s in g)
            spread_gossip, spread_local = max_pairwise_distance(g), max_pairwise_distance(l)
            last.update(best_local=best_local, worst_gossip=worst_gossip, spread_gossip=spread_gossip,
                        spread_local=spread_local, exchanges=[s["exchanges_ok"] for s in g])
            print(f"best local-only {best_local:.3f}  worst gossiping {worst_gossip:.3f}  "
                  f"spread {spread_gossip:.2f} vs {spread_local:.2f}", flush=True)
            return (min(s["epochs"] for s in l) >= 3 and worst_gossip >= best_local + 0.02
                    and spread_gossip < 0.5 * spread_local)

        try:
            wait_for(learned_together, 300, "gossiping nodes to beat local-only ones and converge", interval=5)
        finally:
            print("last figures:", last)
        self.assertTrue(all(x > 0 for x in last["exchanges"]), last)


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""Protocol-level attacks on an open cluster, and a key mismatch, against real nodes on loopback.

1. A forged Hello (another model's signature) naming an honest peer as its sender, one to each
   of two nodes: both keep exchanging with each other, nobody is marked incompatible.
2. Unsolicited RoundRequests at a plain node: one naming an honest plain peer as its
   coordinator with a 1e30 model, NaN / zero-batch / 2^32-1-epoch rounds, and 100 made-up
   coordinators at made-up addresses. The node never leaves gossip, adds no peer, keeps
   training and exchanging, stays finite, and restarts from a finite checkpoint.
3. A peer that claims age 2^64 - 1 in every exchange: the target's age, and its honest
   neighbour's, stay within 17x the samples each trained (gossip::BoundedMergedAge), and never wrap.
4. Two nodes with different keys: the connecting side logs "authentication failed ... same
   --key-file" and counts it in auth_failures.
"""
import os
import unittest

from gossip_attacks import AgeLiar
from gossip_wire import ERROR, HELLO, ROUND_REQUEST, ask, hello_body, round_request_body
from harness import ClusterTestCase, all_finite, make_key, wait_for

COMMON = ["--hidden", "32", "--eval-interval-s", "1", "--discovery", "static", "--gossip-interval-s", "0.5",
          "--checkpoint-interval-s", "0"]


class Pair(ClusterTestCase):
    def start_pair(self, extra=()):
        shards, _ = self.make_shards(2)
        a = self.add_node("a", shards[0], COMMON + list(extra))
        b = self.add_node("b", shards[1], COMMON + list(extra))
        a.extra += ["--peers", b.address]
        b.extra += ["--peers", a.address]
        a.start(), b.start()
        a.wait_ready(), b.wait_ready()
        wait_for(lambda: all((n.status() or {}).get("exchanges_ok", 0) >= 2 for n in (a, b)), 60, "first exchanges")
        return a, b

    @staticmethod
    def keep_exchanging(nodes, more, timeout=60):
        start = {n.name: n.status()["exchanges_ok"] for n in nodes}
        wait_for(lambda: all(n.status()["exchanges_ok"] >= start[n.name] + more for n in nodes), timeout,
                 f"{more} more exchanges on every node")


class ForgedHelloTest(Pair):
    def test_forged_hello_naming_an_honest_peer_marks_nobody(self):
        a, b = self.start_pair()
        for target, named in ((a, b), (b, a)):
            reply_type, _ = ask(target.address, HELLO, hello_body("forger", "another-model", named.address))
            self.assertEqual(reply_type, HELLO)
        self.keep_exchanging((a, b), 6)
        for node, other in ((a, b), (b, a)):
            peers = node.status()["peers"]
            self.assertEqual([(p["address"], p["state"]) for p in peers], [(other.address, "alive")], node.name)
        self.assertEqual(a.stop(), 0)


class RoundRequestTest(Pair):
    def test_unsolicited_round_requests_take_nothing_over(self):
        a, b = self.start_pair()
        s = a.status()
        signature, count = s["signature"], s["param_count"]
        zeros = [0.0] * count
        cases = {
            "an honest plain peer as coordinator, 1e30 model":
                round_request_body(b.status()["id"], b.address, signature, [1e30] * count),
            "NaN learning rate": round_request_body("evil", b.address, signature, zeros, lr=float("nan")),
            "batch size 0": round_request_body("evil", b.address, signature, zeros, batch=0),
            "2^32-1 epochs": round_request_body("evil", b.address, signature, zeros, epochs=2**32 - 1),
        }
        for name, body in cases.items():
            with self.subTest(case=name):
                reply_type, _ = ask(a.address, ROUND_REQUEST, body)
                self.assertEqual(reply_type, ERROR)
        for i in range(100):
            made_up = f"127.0.{i // 250 + 1}.{i % 250 + 1}:{20000 + i}"
            reply_type, _ = ask(a.address, ROUND_REQUEST, round_request_body(f"made-up-{i}", made_up, signature, zeros))
            self.assertEqual(reply_type, ERROR)
        before = a.status()
        self.keep_exchanging((a,), 4)
        after = wait_for(lambda: (lambda s: s if s["samples_trained"] > before["samples_trained"] else None)(
            a.status()), 30, "the node to keep training")
        self.assertEqual(after["mode"], "gossip")
        self.assertEqual(after["coordinator"], "")
        self.assertGreaterEqual(after["round_requests_refused"], 104)
        self.assertEqual([p["address"] for p in after["peers"]], [b.address], "a round request added a peer")
        self.assertTrue(all_finite(after))
        self.assertLess(max(abs(x) for x in after["param_sample"]), 100)
        # Its checkpoint is finite: it restarts from it and trains on.
        self.assertEqual(a.stop(), 0)
        a.start()
        restarted = a.wait_ready()
        self.assertGreater(restarted["model_age"], 0)
        self.assertTrue(all_finite(restarted))
        self.assertEqual(a.stop(), 0)


class ClaimedAgeTest(ClusterTestCase):
    def test_a_huge_claimed_age_neither_wraps_nor_spreads(self):
        shards, _ = self.make_shards(2)
        honest = self.add_node("honest", shards[1], COMMON)
        signature = honest.start().wait_ready()["signature"]
        liar = AgeLiar("liar", signature, None, None)
        self.addCleanup(liar.stop)
        # The target exchanges with the liar and with the honest node, which only answers it.
        target = self.add_node("target", shards[0], COMMON + ["--peers", honest.address, "--peers", liar.address])
        target.start().wait_ready()
        ages = []

        def enough():
            s = [target.status(), honest.status()]
            ages.append(s[0]["model_age"])
            return liar.exchanges >= 20 and s[1]["exchanges_ok"] >= 10 and s[0]["merges"] >= 20 and s

        final = wait_for(enough, 90, "20 exchanges with the liar and 10 between the honest nodes")
        self.assertEqual(ages, sorted(ages), "the target's age went down: it wrapped")
        for s in final:
            print(f"\n{s['id']}: model_age {s['model_age']}, samples_trained {s['samples_trained']}")
            self.assertLessEqual(s["model_age"], 17 * s["samples_trained"], s["id"])


class KeyMismatchTest(ClusterTestCase):
    def test_connecting_side_names_the_key_mismatch_and_counts_it(self):
        shards, _ = self.make_shards(2)
        key_a, _ = make_key(self)
        other = os.path.join(self.workdir, "other.key")
        self.gl("keygen", "--out", other)
        # Only `a` connects (b has no peers and so never contacts a).
        b = self.add_node("b", shards[1], COMMON + ["--key-file", other])
        b.start().wait_ready()
        a = self.add_node("a", shards[0], COMMON + ["--key-file", key_a, "--peers", b.address])
        a.start().wait_ready()
        s = wait_for(lambda: (lambda s: s if s and s["auth_failures"].get("127.0.0.1", 0) > 0 else None)(a.status()),
                     30, "the connecting side to count an authentication failure")
        with open(a.log_path, errors="replace") as f:
            log = f.read()
        self.assertRegex(log, r"authentication failed.*check both nodes use the same --key-file")
        self.assertEqual(s["exchanges_ok"], 0)
        self.assertEqual(a.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)

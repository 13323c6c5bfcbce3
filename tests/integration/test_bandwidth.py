"""Model codecs and the upload budget between real nodes, set with the node flags.

Needs the node settings `codecs` (--codecs) and `max_upload_kbps` (--max-upload-kbps);
every case is skipped while the binary does not have them.
1. Four nodes, one restricted to fp32 (as an older build) and two that also list int4-delta:
   every pair exchanges; the others send each other int8 and the restricted one fp32 (the
   status lists the codec per peer), the two int4-delta nodes ask each other for difference
   replies and nobody else, and nobody refuses a frame or a model.
2. A node with --max-upload-kbps 400 that would start an exchange every 0.1 s: over 30 s
   its upload stays within 10% of the budget (plus its 2 s burst) and uses most of it; its
   status shows that rate.
3. Flow control over TCP: a node with --flow-control push and one with token-account send
   Pushes (one model each, a PushAck back) to each other and to a push-pull node, which
   answers them; the token-account node passes received models on; nobody refuses a frame.
"""
import subprocess
import time
import unittest

from harness import BIN, ClusterTestCase, wait_for

COMMON = ["--hidden", "32", "--eval-interval", "1", "--discovery", "static", "--checkpoint-interval", "0"]


def has_flags(*flags):
    help_text = subprocess.run([BIN, "run", "--help"], capture_output=True, text=True).stdout
    return all(flag in help_text for flag in flags)


@unittest.skipUnless(has_flags("--codecs", "--max-upload-kbps"), "needs the --codecs and --max-upload-kbps flags")
class BandwidthTest(ClusterTestCase):
    def test_pairs_use_int8_and_an_fp32_only_node_still_gossips(self):
        shards, _ = self.make_shards(4)
        differences = ["--codecs", "int4-delta", "int8", "fp16", "fp32"]
        nodes = [self.add_node(name, shard, COMMON + ["--gossip-interval", "0.3"] + extra)
                 for name, shard, extra in (("a", shards[0], differences), ("b", shards[1], []),
                                            ("c", shards[2], ["--codecs", "fp32"]), ("d", shards[3], differences))]
        self.start_full_mesh(nodes)

        def all_exchanged():
            statuses = [n.status() for n in nodes]
            return all(s and len(s["peers"]) == 3 and all(p["exchanges"] > 0 for p in s["peers"])
                       for s in statuses) and statuses

        statuses = wait_for(all_exchanged, 60, "every node to exchange with every other")
        codec = {(s["id"], p["address"]): (p["codec"], p["reply_codec"]) for s in statuses for p in s["peers"]}
        a, b, c, d = nodes
        self.assertEqual(codec[("a", b.address)], ("int8", "int8"))
        self.assertEqual(codec[("b", a.address)], ("int8", "int8"))
        self.assertEqual(codec[("a", c.address)], ("fp32", "fp32"))
        self.assertEqual(codec[("c", a.address)], ("fp32", "fp32"))
        self.assertEqual(codec[("a", d.address)], ("int8", "int4-delta"))
        self.assertEqual(codec[("d", a.address)], ("int8", "int4-delta"))
        for s in statuses:
            self.assertEqual(s["frames_rejected"], 0, s["id"])
            self.assertEqual(s["rejected_updates"], 0, s["id"])
        for node in nodes:
            self.assertEqual(node.stop(), 0)

    def test_upload_budget_is_honoured_within_ten_percent(self):
        kbps = 400
        budget = kbps * 1000 / 8
        shards, _ = self.make_shards(2)
        limited = self.add_node("limited", shards[0], COMMON + ["--gossip-interval", "0.1",
                                                                "--max-upload-kbps", str(kbps)])
        peer = self.add_node("peer", shards[1], COMMON + ["--gossip-interval", "0.5"])
        limited.extra += ["--peer", peer.address]
        peer.extra += ["--peer", limited.address]
        limited.start(), peer.start()
        limited.wait_ready(), peer.wait_ready()
        wait_for(lambda: (limited.status() or {}).get("exchanges_ok", 0) > 0, 60, "a first exchange")
        time.sleep(5)  # past the first burst
        start, t0 = limited.status(), time.monotonic()
        time.sleep(30)
        end, t1 = limited.status(), time.monotonic()
        rate = (end["bytes_sent"] - start["bytes_sent"]) / (t1 - t0)
        print(f"\nlimited node: {rate:.0f} bytes/s sent over {t1 - t0:.0f} s (budget {budget:.0f}); status "
              f"{end['upload_bytes_per_s']:.0f} bytes/s, {end['exchanges_over_budget']} exchanges held back")
        self.assertLessEqual(rate, 1.1 * budget * (1 + 2 / (t1 - t0)))
        self.assertGreaterEqual(rate, 0.7 * budget)
        self.assertGreater(end["exchanges_over_budget"], start["exchanges_over_budget"])
        self.assertAlmostEqual(end["upload_bytes_per_s"], rate, delta=0.25 * budget)
        self.assertEqual(limited.stop(), 0)

    @unittest.skipUnless(has_flags("--flow-control"), "needs the --flow-control flag")
    def test_push_and_token_account_nodes_gossip_with_a_push_pull_node(self):
        shards, _ = self.make_shards(3)
        nodes = [self.add_node(name, shard, COMMON + ["--gossip-interval", "0.3", "--flow-control", flow])
                 for name, shard, flow in (("push", shards[0], "push"), ("tokens", shards[1], "token-account"),
                                           ("pull", shards[2], "push-pull"))]
        self.start_full_mesh(nodes)

        # A peer's flow is known once this node's Hello reached it: the token-account node may
        # not have contacted both peers by its fifth push, so the wait covers that too.
        def flowing():
            push, tokens, pull = statuses = [n.status() for n in nodes]
            return (all(s and s["exchanges_ok"] >= 10 for s in statuses) and push["pushes_sent"] >= 10
                    and tokens["pushes_sent"] >= 5 and tokens["reactive_sends"] >= 1
                    and all(p["flow"] == "push" for p in push["peers"] + tokens["peers"]) and statuses)

        push, tokens, pull = wait_for(flowing, 90, "pushes, reactive sends and exchanges on every node, "
                                                   "and the push nodes pushing to both their peers")
        print(f"\npush: {push['pushes_sent']} pushes; token-account: {tokens['pushes_sent']} pushes "
              f"({tokens['reactive_sends']} reactive, {tokens['tokens']} tokens); push-pull: {pull['pushes_sent']}")
        self.assertEqual(pull["pushes_sent"], 0)
        self.assertEqual({p["flow"] for p in pull["peers"]}, {"push-pull"})
        self.assertLessEqual(tokens["tokens"], 10)
        for s in (push, tokens, pull):
            self.assertEqual(s["frames_rejected"], 0, s["id"])
            self.assertEqual(s["rejected_updates"], 0, s["id"])
        for node in nodes:
            self.assertEqual(node.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)

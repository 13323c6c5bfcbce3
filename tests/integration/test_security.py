"""An authenticated cluster survives hostile bytes and poisoned peers.

1. Hostile frames at a live keyed node: thousands of random, truncated, oversized, wrong-version,
   unauthenticated, wrong-MAC, wrong-key and replayed frames over many connections; afterwards
   the node still trains, its status answers, its parameters are finite and its eval accuracy
   did not drop.
3. Peers that answer every exchange with NaN weights, with weights x1000, or with the wrong
   key: never merged (counted per peer), while the honest nodes keep learning; one that adds
   noise inside max_update_norm is merged only after clipping to the radius honest peers set.

The wire client is tools/gossip_wire.py, the hostile traffic tools/gossip_attacks.py.
"""
import math
import os
import random
import unittest

from gossip_attacks import flood
from gossip_wire import FLAG_AUTH, FLAG_ENCRYPTED, PING, Client, PeerServer, probe_body, read_frame
from harness import ClusterTestCase, all_finite, make_key, wait_for

NOISE_NORM = 150.0  # inside max_update_norm (200): only clipping bounds it


def add_noise(params, norm, rng=random.Random(3)):
    noise = [rng.gauss(0, 1) for _ in params]
    scale = norm / math.sqrt(sum(v * v for v in noise))
    return [x + scale * v for x, v in zip(params, noise)]


# ---- tests -----------------------------------------------------------------------------------

COMMON = ["--hidden", "32", "--eval-interval-s", "1", "--discovery", "static", "--gossip-interval-s", "0.5",
          "--checkpoint-interval-s", "0"]


class SecurityTestCase(ClusterTestCase):
    def setUp(self):
        super().setUp()
        self.key_file, self.key = make_key(self)
        self.assertEqual(os.stat(self.key_file).st_mode & 0o777, 0o600)

    def keyed(self, extra=()):
        return COMMON + ["--key-file", self.key_file] + list(extra)


class HostileFramesTest(SecurityTestCase):
    def test_keyed_node_survives_thousands_of_hostile_frames(self):
        shards, eval_file = self.make_shards(2)
        # No frame rate limit and no per-host connection cap below the flood's 16 connections
        # here, so that every hostile frame reaches the parser and MAC check.
        target = self.add_node("target", shards[0], self.keyed(["--eval-data", eval_file,
                                                                "--max-frames-per-second", "0",
                                                                "--max-connections-per-host", "32"]))
        friend = self.add_node("friend", shards[1], self.keyed())
        target.extra += ["--peers", friend.address]
        friend.extra += ["--peers", target.address]
        target.start(), friend.start()
        target.wait_ready(), friend.wait_ready()
        before = wait_for(lambda: (lambda s: s and s["exchanges_ok"] > 2 and s["eval"] and s)(target.status()), 60,
                          "exchanges and a first eval")

        counts = flood(target.address, self.key, frames=3000, connections=16)
        self.assertGreater(counts["sent"], 1000, counts)

        def recovered():
            s = target.status()
            return (s and s["samples_trained"] > before["samples_trained"]
                    and s["exchanges_ok"] > before["exchanges_ok"] + 2 and s)

        after = wait_for(recovered, 60, "the target to keep training and exchanging after the flood")
        self.assertTrue(target.alive())
        self.assertTrue(all_finite(after), "non-finite parameters after the flood")
        print(f"\nflood: {counts}; frames_rejected +{after['frames_rejected'] - before['frames_rejected']}, "
              f"auth_failures {after['auth_failures']}, throttled {after['frames_throttled']}")
        refused = (after["frames_rejected"] - before["frames_rejected"]) + sum(after["auth_failures"].values())
        self.assertGreater(refused, 1000, after)
        self.assertGreater(after["auth_failures"].get("127.0.0.1", 0), 500, after["auth_failures"])
        self.assertEqual(friend.status()["auth_failures"], {}, "the honest peer never failed authentication")
        # Accuracy did not drop: wait for an eval taken after the flood.
        settled = wait_for(lambda: (lambda s: s and s["samples_trained"] > after["samples_trained"] and s)(
            target.status()), 60, "an eval after the flood")
        self.assertGreaterEqual(settled["eval"]["accuracy"], before["eval"]["accuracy"] - 0.02)
        self.assertEqual(target.stop(), 0)


class EncryptedClusterTest(SecurityTestCase):
    def test_encrypting_nodes_gossip_and_refuse_unencrypted_frames(self):
        shards, _ = self.make_shards(2)
        a = self.add_node("encrypting-a", shards[0], self.keyed(["--encrypt"]))
        b = self.add_node("encrypting-b", shards[1], self.keyed(["--encrypt"]))
        a.extra += ["--peers", b.address]
        b.extra += ["--peers", a.address]
        a.start(), b.start()
        node_id = a.wait_ready()["id"].encode()
        b.wait_ready()
        wait_for(lambda: all((n.status() or {}).get("exchanges_ok", 0) > 2 for n in (a, b)), 60,
                 "encrypted exchanges both ways")

        # An encrypting client gets an encrypted reply: the node id is not on the wire in clear.
        client = Client(a.address, self.key, encrypt=True)
        client.sock.sendall(client.session.seal(PING, probe_body("probe")))
        reply_type, flags, payload = read_frame(client.sock)
        self.assertEqual(flags, FLAG_AUTH | FLAG_ENCRYPTED)
        self.assertNotIn(node_id, payload)  # 12 bytes: by chance in 27 random bytes with p ~ 1e-27
        self.assertEqual(client.session.open(reply_type, payload, flags), probe_body(node_id.decode()))
        client.close()

        # The same key without encryption is refused and counted.
        failures = a.status()["auth_failures"].get("127.0.0.1", 0)
        plain = Client(a.address, self.key)
        with self.assertRaises((ConnectionError, OSError)):
            plain.request(PING, probe_body("plain"))
        plain.close()
        wait_for(lambda: a.status()["auth_failures"].get("127.0.0.1", 0) > failures, 10, "the refusal counted")
        self.assertEqual(b.status()["auth_failures"], {}, "the encrypting peers never failed each other")
        self.assertEqual(a.stop(), 0)


class PoisonedPeersTest(SecurityTestCase):
    def test_nan_scaled_and_wrong_key_peers_are_never_merged_noise_is_clipped_and_a_flip_dropped(self):
        shards, eval_file = self.make_shards(3)
        honest = [self.add_node(f"h{i}", shards[i], self.keyed(["--eval-data", eval_file])) for i in range(3)]
        signature = None
        for node in honest:
            node.start()
        statuses = [node.wait_ready() for node in honest]
        signature = statuses[0]["signature"]
        bad = [PeerServer("scaled", signature, self.key, lambda p: [x * 1000 for x in p]),
               PeerServer("nan", signature, self.key, lambda p: [float("nan")] * len(p)),
               PeerServer("wrongkey", signature, os.urandom(32), lambda p: p, check_macs=False),
               PeerServer("noisy", signature, self.key, lambda p: add_noise(p, NOISE_NORM)),
               PeerServer("flip", signature, self.key, lambda p: [-x for x in p])]
        self.addCleanup(lambda: [b.stop() for b in bad])
        # Restart the honest nodes knowing each other and the three bad peers.
        for node in honest:
            node.stop()
            node.extra += [f"--peers={n.address}" for n in honest if n is not node] + [
                f"--peers={b.address}" for b in bad]
            node.start()
        first = [node.wait_ready() for node in honest]

        def done():
            s = [node.status() for node in honest]
            if any(x is None or x["eval"] is None for x in s):
                return None
            by_peer = [x["rejected_by_peer"] for x in s]
            rejected_all = all(any(k.startswith("scaled@") for k in b) and any(k.startswith("nan@") for k in b)
                               for b in by_peer)
            auth_failed = all(x["auth_failures"].get("127.0.0.1", 0) > 0 for x in s)
            learning = all(x["exchanges_ok"] >= 5 and x["eval"]["accuracy"] > 0.3 for x in s)
            clipped = all(x["merges_clipped"] > 0 and 0 < x["clip_radius"] < NOISE_NORM / 2 for x in s)
            dropped = all(x["merges_dropped"] > 0 for x in s)  # the flipped model, 2 norms away
            return rejected_all and auth_failed and learning and clipped and dropped and s

        final = wait_for(done, 120, "every honest node to refuse three bad peers, clip or drop the noisy one, drop the flipped one "
                         "and keep learning")
        for s in final:
            self.assertTrue(all_finite(s), s["id"])
            self.assertLess(max(abs(x) for x in s["param_sample"]), 100, "scaled weights got in")
        self.assertGreater(bad[0].exchanges + bad[1].exchanges, 0)
        for node, s0 in zip(honest, first):
            self.assertTrue(node.alive())


if __name__ == "__main__":
    unittest.main(verbosity=2)

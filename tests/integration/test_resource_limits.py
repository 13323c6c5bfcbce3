"""A live open node under attacks that aim at its memory, its log and its connection slots.

1. Hostile strings: Hellos with unique 300 KB node ids, and refused ExchangeRequests with
   300 KB sender ids. Every string has a limit at decode (docs/wire.md "Limits"), so they are
   malformed frames: the node's RSS and log grow by little, and its status document stays
   small and quick to read.
2. One address holds connections open with half-sent frames, reconnecting as they close:
   capped per host (max_connections_per_host) and dropped at the first-frame deadline, it
   cannot take every slot, so another host is still answered and the honest peer's
   exchanges go on.
Runs in well under a minute; the attacker connects from 127.0.0.2, another machine to the node.
"""
import os
import socket
import struct
import threading
import time
import unittest

from gossip_attacks import HUGE, hold_slots, send_one
from gossip_wire import EXCHANGE_REQUEST, HELLO, PING, PONG, frame, hello_body, model_body, probe_body, read_frame
from harness import ClusterTestCase, rss_bytes, wait_for


def ping(address, timeout=2):
    """True if a Ping from 127.0.0.1 gets a Pong within `timeout`."""
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as s:
            s.sendall(frame(PING, probe_body("honest")))
            return read_frame(s)[0] == PONG
    except (OSError, ConnectionError, struct.error):
        return False


class ResourceLimitsTest(ClusterTestCase):
    def start_pair(self):
        shards, _ = self.make_shards(2)
        # The default hidden size (128): frames up to ~316 KB, so a 300 KB string fits in one.
        common = ["--discovery", "static", "--gossip-interval-s", "0.5", "--checkpoint-interval-s", "0"]
        self.target = self.add_node("target", shards[0], common)
        self.friend = self.add_node("friend", shards[1], common)
        self.target.extra += ["--peers", self.friend.address]
        self.friend.extra += ["--peers", self.target.address]
        self.target.start(), self.friend.start()
        self.target.wait_ready(), self.friend.wait_ready()
        wait_for(lambda: (self.target.status() or {}).get("exchanges_ok", 0) > 0, 60, "a first good exchange")

    def test_hostile_strings_cost_bounded_memory_log_and_status(self):
        self.start_pair()
        pid = self.target.proc.pid
        rss_before, log_before = rss_bytes(pid), os.path.getsize(self.target.log_path)
        frames = 300
        for i in range(frames):
            node_id = f"{i:06d}".ljust(HUGE, "h")
            send_one(self.target.address, frame(HELLO, hello_body(node_id, "wrong-signature", "127.0.0.2:1")))
        for i in range(frames):
            sender = f"{i:06d}".ljust(HUGE, "s")
            send_one(self.target.address, frame(EXCHANGE_REQUEST, model_body(sender, "wrong-signature", [0.0], 1, 1)))

        # Every frame is refused: as malformed, or throttled (the attacker's address sends faster
        # than max_frames_per_second). The last ones may still be queued when the sender is done.
        def refused(doc):
            return doc.get("frames_rejected", 0) + doc.get("frames_throttled", 0)
        wait_for(lambda: refused(self.target.status() or {}) >= 2 * frames, 10,
                 "every frame with an over-long string to be refused")
        started = time.monotonic()
        status = self.target.status()
        read_s = time.monotonic() - started
        self.assertIsNotNone(status, "the status socket stopped answering")
        status_bytes = len(str(status))
        rss_growth = rss_bytes(pid) - rss_before
        log_growth = os.path.getsize(self.target.log_path) - log_before
        print(f"rss +{rss_growth / 1e6:.1f} MB, log +{log_growth / 1e3:.0f} KB, status {status_bytes / 1e3:.0f} KB "
              f"read in {read_s:.2f} s")
        self.assertTrue(self.target.alive())
        self.assertLess(rss_growth, 30e6)      # unbounded: ~300 KB per frame, 180 MB here
        self.assertLess(log_growth, 1e6)       # unbounded: ~300 KB per frame
        self.assertLess(status_bytes, 500e3)   # unbounded: every refused sender id listed
        self.assertLess(read_s, 2)
        self.assertGreater(status["frames_rejected"], frames, "the long strings were not refused as malformed")
        self.assertEqual(self.target.stop(), 0)

    def test_one_address_cannot_hold_every_connection_slot(self):
        self.start_pair()
        stop = threading.Event()
        attacker = threading.Thread(target=hold_slots, args=(self.target.address, stop), daemon=True)
        attacker.start()
        try:
            time.sleep(1)  # the attacker fills what it can
            before = self.target.status()["exchanges_ok"]
            answered = sum(ping(self.target.address) for _ in range(10))
            wait_for(lambda: self.target.status()["exchanges_ok"] >= before + 4, 15,
                     "the honest peer's exchanges to go on during the attack")
        finally:
            stop.set()
            attacker.join()
        self.assertEqual(answered, 10, "pings from another host were refused while one address held the slots")
        self.assertTrue(self.target.alive())
        self.assertEqual(self.target.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""Issue 3: a live node survives garbage, truncated, oversized and wrong-version frames.

Each bad connection is closed by the node; afterwards it still trains, still answers its
status socket, counts the rejected frames, and a normal peer still exchanges with it.
"""
import socket
import unittest

from gossip_wire import HELLO, MAGIC, header
from harness import ClusterTestCase, wait_for


def send_and_expect_close(address, payload, timeout=10):
    """Sends payload; returns True if the node closed the connection within timeout."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(payload)
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            return True
        s.settimeout(timeout)
        try:
            while s.recv(65536):
                pass
        except ConnectionResetError:
            pass
        return True


class HostileFramesTest(ClusterTestCase):
    def test_node_survives_bad_frames(self):
        shards, eval_file = self.make_shards(2)
        common = ["--hidden", "32", "--eval-interval-s", "1", "--discovery", "static", "--gossip-interval-s", "0.5",
                  "--checkpoint-interval-s", "0"]
        target = self.add_node("target", shards[0], common)
        friend = self.add_node("friend", shards[1], common)
        target.extra += ["--peers", friend.address]
        friend.extra += ["--peers", target.address]
        target.start(), friend.start()
        target.wait_ready(), friend.wait_ready()
        wait_for(lambda: (target.status() or {}).get("exchanges_ok", 0) > 0, 60, "a first good exchange")
        before = target.status()

        cases = {
            "garbage": b"\x00\xffthis is not a frame at all" * 10,
            "bad magic": header(HELLO, 4, magic=b"XXXX") + b"abcd",
            "wrong version": header(HELLO, 4, version=99) + b"abcd",
            "unknown type": header(200, 4) + b"abcd",
            "unknown flag": header(HELLO, 4, flags=0x8000) + b"abcd",
            "oversized length": header(HELLO, 0xFFFFFFF0),
            "truncated body": header(HELLO, 1000) + b"x" * 10,
            "garbage body": header(HELLO, 64) + bytes(range(64)),
            "truncated header": MAGIC + b"\x01",
        }
        for name, payload in cases.items():
            with self.subTest(case=name):
                self.assertTrue(send_and_expect_close(target.address, payload), name)

        def recovered():
            s = target.status()
            return (s and s["samples_trained"] > before["samples_trained"]
                    and s["exchanges_ok"] > before["exchanges_ok"] + 1 and s)

        after = wait_for(recovered, 60, "the target to keep training and exchanging after the attack")
        self.assertTrue(target.alive())
        self.assertGreaterEqual(after["frames_rejected"] - before["frames_rejected"], 5, after)
        self.assertEqual(target.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""A live node survives garbage, truncated, oversized and wrong-version frames.

Each bad connection is closed by the node; afterwards it still trains, still answers its
status socket, counts the rejected frames, and a normal peer still exchanges with it.

Model codecs (docs/wire.md "Model codecs"): a Python peer that lists int8 in its Hello gets
int8 models from a real node and gossips with it in int8; coded models with hostile scales,
block counts, lengths or codec ids, in an ExchangeRequest or a Push, are answered with Error,
counted, and gossip goes on.
"""
import math
import socket
import struct
import unittest

from gossip_wire import (ERROR, EXCHANGE_REPLY, EXCHANGE_REQUEST, HELLO, MAGIC, PUSH, PeerServer, archive, ask, header,
                         seq)
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


FP32, FP16, INT8, INT4_DELTA = 0, 1, 2, 3
BLOCK = 256


def int8_payload(params, scales=None, blocks=None):
    """docs/wire.md int8: u32 block count, f32 scales, i8 values; `scales`/`blocks` override for attacks."""
    count = len(params)
    real_scales, values = [], []
    for start in range(0, count, BLOCK):
        block = params[start:start + BLOCK]
        largest = max(abs(v) for v in block)
        scale = largest / 127 if largest >= 1e-30 else 1.0
        real_scales.append(scale)
        values += [max(-127, min(127, round(v / scale))) if largest >= 1e-30 else 0 for v in block]
    scales = real_scales if scales is None else scales
    blocks = len(real_scales) if blocks is None else blocks
    return (struct.pack("<I", blocks) + struct.pack(f"<{len(scales)}f", *scales) +
            struct.pack(f"<{count}b", *values))


def int4_payload(count):
    """docs/wire.md int4-delta: u32 block count, f32 scales, zeros two a byte (a valid difference)."""
    blocks = (count + 63) // 64
    return struct.pack(f"<I{blocks}f", blocks, *([0.01] * blocks)) + bytes((count + 1) // 2)


def coded_model_body(sender, signature, codec, count, payload, age=1, samples=1):
    return archive(seq(sender.encode()), seq(signature.encode()),
                   struct.pack("<QQ", count | codec << 56, len(payload)) + payload, struct.pack("<QQ", age, samples))


def parse_coded_model(body):
    """(sender, signature, codec, params, age, samples) of an ExchangeRequest/Reply in any codec."""
    pos = 1
    out = []
    for _ in range(2):
        (n,) = struct.unpack_from("<Q", body, pos)
        out.append(body[pos + 8:pos + 8 + n].decode())
        pos += 8 + n
    (word,) = struct.unpack_from("<Q", body, pos)
    codec, count = word >> 56, word & ((1 << 56) - 1)
    pos += 8
    if codec == FP32:
        params = list(struct.unpack_from(f"<{count}f", body, pos))
        pos += 4 * count
    else:
        (length,) = struct.unpack_from("<Q", body, pos)
        payload = body[pos + 8:pos + 8 + length]
        pos += 8 + length
        if codec == FP16:
            params = list(struct.unpack(f"<{count}e", payload))
        else:
            (blocks,) = struct.unpack_from("<I", payload, 0)
            scales = struct.unpack_from(f"<{blocks}f", payload, 4)
            values = struct.unpack_from(f"<{count}b", payload, 4 + 4 * blocks)
            params = [q * scales[i // BLOCK] for i, q in enumerate(values)]
    age, samples = struct.unpack_from("<QQ", body, pos)
    return out[0], out[1], codec, params, age, samples


class Int8Peer(PeerServer):
    """Lists int8, fp16 and fp32 in its Hello and answers each exchange with the model it got, in int8."""

    def __init__(self, node_id, signature):
        super().__init__(node_id, signature, None, None)
        self.codecs_received = []

    def answer(self, msg_type, body):
        if msg_type == HELLO:
            _, reply = super().answer(msg_type, body)
            return HELLO, reply + seq(bytes([INT8, FP16, FP32]))
        if msg_type != EXCHANGE_REQUEST:
            return super().answer(msg_type, body)
        _, signature, codec, params, age, samples = parse_coded_model(body)
        self.codecs_received.append(codec)
        return EXCHANGE_REPLY, coded_model_body(self.node_id, signature, INT8, len(params), int8_payload(params),
                                                age, samples)


class CodedModelsTest(ClusterTestCase):
    def test_int8_gossip_with_a_python_peer_and_hostile_coded_models_refused(self):
        shards, _ = self.make_shards(1)
        target = self.add_node("target", shards[0], ["--hidden", "32", "--eval-interval", "1", "--discovery",
                                                     "static", "--gossip-interval", "0.3", "--checkpoint-interval", "0"])
        signature = target.start().wait_ready()["signature"]
        target.stop()
        peer = Int8Peer("py-int8", signature)
        self.addCleanup(peer.stop)
        target.extra += ["--peer", peer.address]
        target.start().wait_ready()
        s = wait_for(lambda: (lambda s: s if len(peer.codecs_received) >= 3 and s["exchanges_ok"] >= 3 else None)(
            target.status()), 60, "three int8 exchanges with the Python peer")
        self.assertEqual(set(peer.codecs_received), {INT8}, "the node did not send int8 to a peer that lists it")
        self.assertEqual([p["codec"] for p in s["peers"]], ["int8"])
        self.assertEqual(s["rejected_updates"], 0, "the node refused the int8 model the peer sent back")

        count = s["param_count"]
        params = [math.sin(i) * 0.1 for i in range(count)]
        blocks = (count + BLOCK - 1) // BLOCK
        good = int8_payload(params)

        def with_scale(value):
            return int8_payload(params, scales=[value] + [0.1 / 127] * (blocks - 1))

        cases = {
            "NaN scale": (INT8, count, with_scale(float("nan")), "scale nan"),
            "Inf scale": (INT8, count, with_scale(float("inf")), "scale inf"),
            "huge scale": (INT8, count, with_scale(1e30), "scale 1e+30"),
            "zero scale": (INT8, count, with_scale(0.0), "scale 0"),
            "negative scale": (INT8, count, with_scale(-0.5), "scale -0.5"),
            "short block": (INT8, count, good[:-1], "payload of"),
            "wrong block count": (INT8, count, struct.pack("<I", blocks + 1) + good[4:], "values need"),
            "unknown codec": (9, count, good, "unknown model codec 9"),
            "fp16 Inf": (FP16, count, struct.pack("<H", 0x7C00) + bytes(2 * count - 2), "Inf or NaN"),
            "a difference as a whole model": (INT4_DELTA, count, int4_payload(count), "codes only a reply"),
        }
        before = target.status()
        # A Push carries the same fields and gets the same checks.
        for msg_type in (EXCHANGE_REQUEST, PUSH):
            for name, (codec, n, payload, reason) in cases.items():
                with self.subTest(case=name, msg_type=msg_type):
                    reply_type, reply = ask(target.address, msg_type,
                                            coded_model_body("attacker", signature, codec, n, payload))
                    self.assertEqual(reply_type, ERROR)
                    self.assertIn(reason, reply.decode(errors="replace"))
        exchanged = len(peer.codecs_received)
        after = wait_for(lambda: (lambda s: s if len(peer.codecs_received) >= exchanged + 3 and
                                  s["exchanges_ok"] >= before["exchanges_ok"] + 3 else None)(target.status()), 60,
                         "three more int8 exchanges after the attack")
        self.assertEqual(after["frames_rejected"] - before["frames_rejected"], 2 * len(cases), after)
        self.assertTrue(target.alive())
        self.assertEqual(target.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)

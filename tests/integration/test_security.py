"""Issue 6: an authenticated cluster survives hostile bytes and poisoned peers.

1. Hostile frames at a live keyed node: thousands of random, truncated, oversized, wrong-version,
   unauthenticated, wrong-MAC, wrong-key and replayed frames over many connections; afterwards
   the node still trains, its status answers, its parameters are finite and its eval accuracy
   did not drop.
3. Peers that answer every exchange with NaN weights, with weights x1000, or with the wrong
   key: never merged (counted per peer), while the honest nodes keep learning.

This file also holds a small Python implementation of the wire protocol (docs/wire.md), used
by bench/security/ as well.
"""
import hashlib
import math
import os
import random
import socket
import socketserver
import struct
import threading
import unittest

from harness import ClusterTestCase, wait_for

MAGIC = b"GLRN"
VERSION = 1
HELLO, EXCHANGE_REQUEST, EXCHANGE_REPLY, PING, PONG, ERROR, AUTH_NONCE = 1, 2, 3, 4, 5, 6, 16
FLAG_AUTH = 1
NONCE_BYTES, TAG_BYTES = 16, 32
KDF_CONTEXT = b"gossip-learner auth v1"
CLIENT, SERVER = 0, 1


# ---- wire format ------------------------------------------------------------------------

def header(msg_type, length, flags=0, version=VERSION, magic=MAGIC):
    return magic + struct.pack("<BBHI", version, msg_type, flags, length)


def frame(msg_type, body, flags=0):
    return header(msg_type, len(body), flags) + body


def seq(data):
    """A Cereal BoundedSequence: u64 count, then the raw items."""
    return struct.pack("<Q", len(data)) + data


def archive(*parts):
    """A Cereal PortableBinary archive: one endianness byte (1 = little), then the fields."""
    return b"\x01" + b"".join(parts)


def hello_body(node_id, signature, listen):
    return archive(seq(node_id.encode()), bytes([VERSION]), seq(signature.encode()), seq(b"node"),
                   seq(listen.encode()))


def probe_body(node_id):
    return archive(seq(node_id.encode()))


def model_body(sender, signature, params, age, local_samples):
    floats = struct.pack(f"<{len(params)}f", *params)
    return archive(seq(sender.encode()), seq(signature.encode()), struct.pack("<Q", len(params)) + floats,
                   struct.pack("<QQ", age, local_samples))


def parse_model(body):
    """(sender, signature, params, age, local_samples) of an ExchangeRequest/Reply body."""
    pos = 1

    def take_seq(item_size=1):
        nonlocal pos
        (count,) = struct.unpack_from("<Q", body, pos)
        pos += 8
        data = body[pos:pos + count * item_size]
        pos += count * item_size
        return data, count

    sender, _ = take_seq()
    signature, _ = take_seq()
    raw, count = take_seq(4)
    params = list(struct.unpack(f"<{count}f", raw))
    age, local_samples = struct.unpack_from("<QQ", body, pos)
    return sender.decode(), signature.decode(), params, age, local_samples


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def read_frame(sock):
    """(type, flags, body) of the next frame; body still carries a MAC if flags say so."""
    head = read_exact(sock, 12)
    if head[:4] != MAGIC:
        raise ConnectionError("bad magic")
    _, msg_type, flags, length = struct.unpack("<BBHI", head[4:])
    return msg_type, flags, read_exact(sock, length)


class Session:
    """One side of a keyed connection (gossip/auth.h)."""

    def __init__(self, key, role):
        self.key, self.role = key, role
        self.nonce = os.urandom(NONCE_BYTES)
        self.sent = self.received = 0
        self.mac_key = None

    def nonce_frame(self):
        return frame(AUTH_NONCE, self.nonce)

    def accept(self, msg_type, body):
        if msg_type != AUTH_NONCE or len(body) != NONCE_BYTES:
            raise ConnectionError(f"expected a nonce, got type {msg_type}")
        client, server = (self.nonce, body) if self.role == CLIENT else (body, self.nonce)
        self.mac_key = hashlib.blake2b(KDF_CONTEXT + client + server, key=self.key, digest_size=32).digest()

    def _tag(self, sender, number, msg_type, body):
        h = hashlib.blake2b(key=self.mac_key, digest_size=TAG_BYTES)
        h.update(bytes([sender]) + struct.pack("<Q", number))
        h.update(header(msg_type, len(body) + TAG_BYTES, FLAG_AUTH))
        h.update(body)
        return h.digest()

    def seal(self, msg_type, body):
        wire = header(msg_type, len(body) + TAG_BYTES, FLAG_AUTH) + body + self._tag(self.role, self.sent, msg_type,
                                                                                  body)
        self.sent += 1
        return wire

    def open(self, msg_type, payload):
        body, tag = payload[:-TAG_BYTES], payload[-TAG_BYTES:]
        if len(payload) < TAG_BYTES or tag != self._tag(1 - self.role, self.received, msg_type, body):
            raise ConnectionError("wrong MAC")
        self.received += 1
        return body


class Client:
    """A connection to a node, keyed or open."""

    def __init__(self, address, key=None, timeout=10):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.session = None
        if key is not None:
            self.session = Session(key, CLIENT)
            self.sock.sendall(self.session.nonce_frame())
            msg_type, _, body = read_frame(self.sock)
            self.session.accept(msg_type, body)

    def request(self, msg_type, body):
        self.sock.sendall(self.session.seal(msg_type, body) if self.session else frame(msg_type, body))
        reply_type, _, payload = read_frame(self.sock)
        return reply_type, self.session.open(reply_type, payload) if self.session else payload

    def close(self):
        self.sock.close()


class PeerServer:
    """A Python peer nodes can gossip with: answers Hello, Ping and ExchangeRequest.

    `poison(params)` turns the model a node pushed into the one sent back, so a poisoned peer
    answers every exchange with, e.g., scaled or NaN weights. A peer with the wrong key
    answers with frames the nodes cannot authenticate.
    """

    def __init__(self, node_id, signature, key, poison, check_macs=True):
        self.node_id, self.signature, self.key, self.poison = node_id, signature, key, poison
        self.check_macs = check_macs  # False for a wrong key: read the nodes' frames unchecked
        self.exchanges = 0
        peer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                sock = self.request
                sock.settimeout(10)
                try:
                    session = None
                    if peer.key is not None:
                        session = Session(peer.key, SERVER)
                        session.accept(*read_frame(sock)[::2])
                        sock.sendall(session.nonce_frame())
                    while True:
                        msg_type, _, payload = read_frame(sock)
                        body = payload
                        if session:
                            body = session.open(msg_type, payload) if peer.check_macs else payload[:-TAG_BYTES]
                        reply_type, reply = peer.answer(msg_type, body)
                        sock.sendall(session.seal(reply_type, reply) if session else frame(reply_type, reply))
                except (ConnectionError, OSError, struct.error):
                    pass

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, msg_type, body):
        if msg_type == HELLO:
            return HELLO, hello_body(self.node_id, self.signature, self.address)
        if msg_type == PING:
            return PONG, probe_body(self.node_id)
        if msg_type == EXCHANGE_REQUEST:
            _, signature, params, age, samples = parse_model(body)
            self.exchanges += 1
            return EXCHANGE_REPLY, model_body(self.node_id, signature, self.poison(params), age + 1000, samples)
        return ERROR, archive(seq(b"not a request"))

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# ---- hostile traffic ----------------------------------------------------------------------

HOSTILE_KINDS = ["random", "truncated", "oversized", "wrong version", "bad magic", "unknown flag", "unsealed",
                 "wrong mac", "wrong key", "replayed", "replayed in session"]


def recorded_frame(address, key):
    """A genuine sealed Ping from a real session, to replay later."""
    client = Client(address, key)
    wire = client.session.seal(PING, probe_body("recorder"))
    client.sock.sendall(wire)
    read_frame(client.sock)
    client.close()
    return wire


def hostile_payload(kind, rng, replay):
    if kind == "random":
        return rng.randbytes(rng.randint(1, 200)), None
    if kind == "truncated":
        return header(EXCHANGE_REQUEST, 1000) + rng.randbytes(rng.randint(0, 999)), None
    if kind == "oversized":
        return header(EXCHANGE_REQUEST, 0xFFFFFFF0), None
    if kind == "wrong version":
        return header(AUTH_NONCE, NONCE_BYTES, version=rng.choice([0, 2, 255])) + rng.randbytes(NONCE_BYTES), None
    if kind == "bad magic":
        return header(AUTH_NONCE, NONCE_BYTES, magic=b"GLRX") + rng.randbytes(NONCE_BYTES), None
    if kind == "unknown flag":
        return header(AUTH_NONCE, NONCE_BYTES, flags=0x8000) + rng.randbytes(NONCE_BYTES), None
    if kind == "unsealed":
        return frame(PING, probe_body("intruder")), None
    # The rest send after a handshake.
    if kind == "wrong mac":
        return None, lambda session: frame(PING, probe_body("x") + rng.randbytes(TAG_BYTES), FLAG_AUTH)
    if kind == "wrong key":
        return None, "wrong key"
    if kind == "replayed":
        return None, lambda session: replay
    if kind == "replayed in session":
        return None, "replay twice"
    raise ValueError(kind)


def send_hostile(address, key, kind, rng, replay):
    """One connection carrying one hostile frame. Returns False if the node refused at connect."""
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=5) as s:
            raw, after_handshake = hostile_payload(kind, rng, replay)
            if raw is not None:
                s.sendall(raw)
                return True
            session = Session(os.urandom(32) if after_handshake == "wrong key" else key, CLIENT)
            s.sendall(session.nonce_frame())
            msg_type, _, body = read_frame(s)
            session.accept(msg_type, body)
            if after_handshake == "wrong key":
                s.sendall(session.seal(PING, probe_body("intruder")))
            elif after_handshake == "replay twice":
                wire = session.seal(PING, probe_body("twice"))
                s.sendall(wire)
                read_frame(s)
                s.sendall(wire)
            else:
                s.sendall(after_handshake(session))
            return True
    except (ConnectionError, OSError):
        return False


def flood(address, key, frames, connections=16, seed=1):
    """Sends `frames` hostile frames, one per connection, from `connections` threads."""
    replay = recorded_frame(address, key)
    counts = {"sent": 0, "refused": 0}
    lock = threading.Lock()

    def worker(index):
        rng = random.Random(seed * 1000 + index)
        for i in range(index, frames, connections):
            ok = send_hostile(address, key, HOSTILE_KINDS[i % len(HOSTILE_KINDS)], rng, replay)
            with lock:
                counts["sent" if ok else "refused"] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts


def make_key(case):
    """Runs `gossip-learner keygen` in a ClusterTestCase's workdir; returns (path, key bytes)."""
    key_file = os.path.join(case.workdir, "cluster.key")
    case.gl("keygen", "--out", key_file)
    with open(key_file) as f:
        return key_file, bytes.fromhex(f.read().strip())


def all_finite(status):
    return all(math.isfinite(x) for x in status["param_sample"])


# ---- tests -----------------------------------------------------------------------------------

COMMON = ["--hidden", "32", "--eval-interval", "1", "--discovery", "static", "--gossip-interval", "0.5",
          "--checkpoint-interval", "0"]


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
        # No frame rate limit here, so that every hostile frame reaches the parser and MAC check.
        target = self.add_node("target", shards[0], self.keyed(["--eval-data", eval_file,
                                                                "--max-frames-per-second", "0"]))
        friend = self.add_node("friend", shards[1], self.keyed())
        target.extra += ["--peer", friend.address]
        friend.extra += ["--peer", target.address]
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


class PoisonedPeersTest(SecurityTestCase):
    def test_nan_scaled_and_wrong_key_peers_are_never_merged(self):
        shards, eval_file = self.make_shards(3)
        honest = [self.add_node(f"h{i}", shards[i], self.keyed(["--eval-data", eval_file])) for i in range(3)]
        signature = None
        for node in honest:
            node.start()
        statuses = [node.wait_ready() for node in honest]
        signature = statuses[0]["signature"]
        bad = [PeerServer("scaled", signature, self.key, lambda p: [x * 1000 for x in p]),
               PeerServer("nan", signature, self.key, lambda p: [float("nan")] * len(p)),
               PeerServer("wrongkey", signature, os.urandom(32), lambda p: p, check_macs=False)]
        self.addCleanup(lambda: [b.stop() for b in bad])
        # Restart the honest nodes knowing each other and the three bad peers.
        for node in honest:
            node.stop()
            node.extra += [f"--peer={n.address}" for n in honest if n is not node] + [
                f"--peer={b.address}" for b in bad]
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
            return rejected_all and auth_failed and learning and s

        final = wait_for(done, 120, "every honest node to refuse all three bad peers and keep learning")
        for s in final:
            self.assertTrue(all_finite(s), s["id"])
            self.assertLess(max(abs(x) for x in s["param_sample"]), 100, "scaled weights got in")
        self.assertGreater(bad[0].exchanges + bad[1].exchanges, 0)
        for node, s0 in zip(honest, first):
            self.assertTrue(node.alive())


if __name__ == "__main__":
    unittest.main(verbosity=2)

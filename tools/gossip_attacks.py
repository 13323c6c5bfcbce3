"""Hostile traffic against a live gossip-learner node, built on gossip_wire: floods of bad
frames (random, truncated, oversized, wrong version, unsealed, wrong MAC, wrong key, replayed),
a sealed Push with a garbage body, frames sent from another loopback address, connection slots held with half-sent frames, and a
peer that lies about its model's age. Shared by the integration tests and bench/security.
"""
import os
import random
import socket
import struct
import threading
import time

from gossip_wire import (AUTH_NONCE, CLIENT, EXCHANGE_REPLY, EXCHANGE_REQUEST, FLAG_AUTH, NONCE_BYTES, PING, PUSH,
                         TAG_BYTES, VERSION, Client, PeerServer, Session, frame, header, model_body, parse_model,
                         probe_body, read_frame)

ATTACKER = "127.0.0.2"  # another loopback address: plays another machine
HUGE = 300_000          # bytes of a hostile string: fits one frame of the default model, far over every limit
AGE_MAX = 2**64 - 1


HOSTILE_KINDS = ["random", "truncated", "oversized", "wrong version", "bad magic", "unknown flag", "unsealed",
                 "wrong mac", "wrong key", "replayed", "replayed in session", "malformed push"]


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
        version = rng.choice([0, VERSION - 1, VERSION + 1, 255])
        return header(AUTH_NONCE, NONCE_BYTES, version=version) + rng.randbytes(NONCE_BYTES), None
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
    if kind == "malformed push":  # passes authentication, fails decoding: an Error reply, counted
        return None, lambda session: session.seal(PUSH, rng.randbytes(rng.randint(1, 200)))
    raise ValueError(kind)


def send_hostile(address, key, kind, rng, replay, source_host=None):
    """One connection carrying one hostile frame (from `source_host` if given). Returns False if
    the node refused at connect."""
    host, port = address.rsplit(":", 1)
    source = (source_host, 0) if source_host else None
    try:
        with socket.create_connection((host, int(port)), timeout=5, source_address=source) as s:
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


def flood(address, key, frames, connections=16, seed=1, source_host=None):
    """Sends `frames` hostile frames, one per connection, from `connections` threads; from
    `source_host` (e.g. another loopback address) if given."""
    replay = recorded_frame(address, key)
    counts = {"sent": 0, "refused": 0}
    lock = threading.Lock()

    def worker(index):
        rng = random.Random(seed * 1000 + index)
        for i in range(index, frames, connections):
            ok = send_hostile(address, key, HOSTILE_KINDS[i % len(HOSTILE_KINDS)], rng, replay, source_host)
            with lock:
                counts["sent" if ok else "refused"] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts


def send_one(address, payload, source=ATTACKER, timeout=5):
    """Sends one frame on its own connection and waits for the reply or the close."""
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=timeout, source_address=(source, 0)) as s:
            s.sendall(payload)
            read_frame(s)
    except (OSError, ConnectionError, struct.error):
        pass


def hold_slots(address, stop):
    """Until `stop` is set, keeps 32 half-sent frames open from the attacker's address,
    reconnecting as the node closes them."""
    host, port = address.rsplit(":", 1)
    held = []
    while not stop.is_set():
        while len(held) < 32 and not stop.is_set():
            try:
                s = socket.create_connection((host, int(port)), timeout=2, source_address=(ATTACKER, 0))
                s.sendall(frame(PING, probe_body("x"))[:6])
                s.setblocking(False)
                held.append(s)
            except OSError:
                time.sleep(0.01)
        open_still = []
        for s in held:
            try:
                if s.recv(1) == b"":
                    s.close()
                    continue
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                continue
            open_still.append(s)
        held = open_still
        time.sleep(0.05)
    for s in held:
        s.close()


class AgeLiar(PeerServer):
    """Answers every exchange with the model it was sent, claiming age 2^64 - 1."""

    def answer(self, msg_type, body):
        if msg_type != EXCHANGE_REQUEST:
            return super().answer(msg_type, body)
        _, signature, params, _, samples = parse_model(body)
        self.exchanges += 1
        return EXCHANGE_REPLY, model_body(self.node_id, signature, params, AGE_MAX, samples)

"""A Python client of gossip-learner's wire protocol (docs/wire.md), shared by the integration
tests (tests/integration) and the security benches (bench/security): frame headers, message
bodies (Cereal PortableBinary), the keyed session of gossip/wire/auth.h (ChaCha20-Poly1305 from
libsodium through ctypes), a client connection, and a Python peer that nodes can gossip with.
Standard library and libsodium only.
"""
import ctypes
import ctypes.util
import hashlib
import os
import socket
import socketserver
import struct
import threading

MAGIC = b"GLRN"
VERSION = 2
HELLO, EXCHANGE_REQUEST, EXCHANGE_REPLY, PING, PONG, ERROR, AUTH_NONCE = 1, 2, 3, 4, 5, 6, 16
PUSH, PUSH_ACK = 7, 8
ROUND_REQUEST = 32
FLAG_AUTH, FLAG_ENCRYPTED = 1, 2
NONCE_BYTES, TAG_BYTES = 16, 16
KDF_CONTEXT = b"gossip-learner auth v2"
CLIENT, SERVER = 0, 1

_sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
assert _sodium.sodium_init() >= 0


def aead_seal(key, nonce, ad, plaintext):
    """(ciphertext, tag) of crypto_aead_chacha20poly1305_ietf_encrypt_detached."""
    out = ctypes.create_string_buffer(len(plaintext) + 1)
    tag = ctypes.create_string_buffer(TAG_BYTES)
    _sodium.crypto_aead_chacha20poly1305_ietf_encrypt_detached(
        out, tag, None, plaintext, ctypes.c_ulonglong(len(plaintext)), ad, ctypes.c_ulonglong(len(ad)), None,
        nonce, key)
    return out.raw[:len(plaintext)], tag.raw


def aead_open(key, nonce, ad, ciphertext, tag):
    """The plaintext, or None if the tag is wrong."""
    out = ctypes.create_string_buffer(len(ciphertext) + 1)
    failed = _sodium.crypto_aead_chacha20poly1305_ietf_decrypt_detached(
        out, None, ciphertext, ctypes.c_ulonglong(len(ciphertext)), tag, ad, ctypes.c_ulonglong(len(ad)), nonce, key)
    return None if failed else out.raw[:len(ciphertext)]


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


def round_request_body(coordinator_id, address, signature, params, epochs=1, batch=32, lr=0.01, round_=1):
    floats = struct.pack(f"<{len(params)}f", *params)
    return archive(seq(coordinator_id.encode()), seq(address.encode()), struct.pack("<Q", round_),
                   seq(signature.encode()), struct.pack("<Q", len(params)) + floats, struct.pack("<QQ", 0, 0),
                   struct.pack("<IIf", epochs, batch, lr))


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
    """One side of a keyed connection (gossip/wire/auth.h), encrypting or not."""

    def __init__(self, key, role, encrypt=False):
        self.key, self.role, self.encrypt = key, role, encrypt
        self.nonce = os.urandom(NONCE_BYTES)
        self.sent = self.received = 0
        self.frame_key = None

    def nonce_frame(self):
        return frame(AUTH_NONCE, self.nonce)

    def accept(self, msg_type, body):
        if msg_type != AUTH_NONCE or len(body) != NONCE_BYTES:
            raise ConnectionError(f"expected a nonce, got type {msg_type}")
        client, server = (self.nonce, body) if self.role == CLIENT else (body, self.nonce)
        self.frame_key = hashlib.blake2b(KDF_CONTEXT + client + server, key=self.key, digest_size=32).digest()

    @staticmethod
    def _nonce(sender, number):
        return bytes([sender, 0, 0, 0]) + struct.pack("<Q", number)

    def seal(self, msg_type, body):
        flags = FLAG_AUTH | (FLAG_ENCRYPTED if self.encrypt else 0)
        head = header(msg_type, len(body) + TAG_BYTES, flags)
        nonce = self._nonce(self.role, self.sent)
        if self.encrypt:
            body, tag = aead_seal(self.frame_key, nonce, head, body)
        else:
            _, tag = aead_seal(self.frame_key, nonce, head + body, b"")
        self.sent += 1
        return head + body + tag

    def open(self, msg_type, payload, flags=None):
        """The body of a received sealed frame; `flags` from its header (default: as we seal)."""
        if flags is None:
            flags = FLAG_AUTH | (FLAG_ENCRYPTED if self.encrypt else 0)
        body, tag = payload[:-TAG_BYTES], payload[-TAG_BYTES:]
        head = header(msg_type, len(payload), flags)
        nonce = self._nonce(1 - self.role, self.received)
        if len(payload) < TAG_BYTES or not flags & FLAG_AUTH:
            raise ConnectionError("no tag")
        if flags & FLAG_ENCRYPTED:
            body = aead_open(self.frame_key, nonce, head, body, tag)
        elif aead_open(self.frame_key, nonce, head + body, b"", tag) is None:
            body = None
        if body is None:
            raise ConnectionError("wrong tag")
        self.received += 1
        return body


class Client:
    """A connection to a node, keyed or open."""

    def __init__(self, address, key=None, timeout=10, encrypt=False):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.session = None
        if key is not None:
            self.session = Session(key, CLIENT, encrypt)
            self.sock.sendall(self.session.nonce_frame())
            msg_type, _, body = read_frame(self.sock)
            self.session.accept(msg_type, body)

    def request(self, msg_type, body):
        self.sock.sendall(self.session.seal(msg_type, body) if self.session else frame(msg_type, body))
        reply_type, flags, payload = read_frame(self.sock)
        return reply_type, self.session.open(reply_type, payload, flags) if self.session else payload

    def close(self):
        self.sock.close()


def ask(address, msg_type, body):
    """(reply type, reply body) of one request on a fresh open connection."""
    client = Client(address)
    try:
        return client.request(msg_type, body)
    finally:
        client.close()


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
                        msg_type, flags, payload = read_frame(sock)
                        body = payload
                        if session:
                            body = session.open(msg_type, payload, flags) if peer.check_macs else payload[:-TAG_BYTES]
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

"""Writes a few valid frames (docs/wire.md) as libFuzzer seeds into the given directory."""
import os
import struct
import sys


def frame(msg_type, body, flags=0):
    return b"GLRN" + struct.pack("<BBHI", 2, msg_type, flags, len(body)) + body  # protocol version 2


def seq(data):
    return struct.pack("<Q", len(data)) + data


def archive(*parts):
    return b"\x01" + b"".join(parts)


SEEDS = {
    "hello": frame(1, archive(seq(b"pi-1"), b"\x02", seq(b"gru-v1"), seq(b"node"), seq(b"10.0.0.1:7070"))),
    "exchange": frame(2, archive(seq(b"pi-1"), seq(b"gru-v1"), struct.pack("<Q4f", 4, 0.5, -1, 2, 0),
                                 struct.pack("<QQ", 10, 100))),
    "ping": frame(4, archive(seq(b"pi-1"))),
    "error": frame(6, archive(seq(b"no"))),
    "nonce": frame(16, bytes(range(16))),
    "sealed": frame(4, archive(seq(b"pi-1")) + bytes(16), flags=1),
    "encrypted": frame(4, archive(seq(b"pi-1")) + bytes(16), flags=3),
}

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(out, "seed-" + name), "wb") as f:
        f.write(data)

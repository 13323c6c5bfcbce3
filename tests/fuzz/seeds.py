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


def coded_params(codec, payload, count):
    """A coded model's parameters (docs/wire.md "Model codecs"): count word with the codec in its top byte."""
    return struct.pack("<QQ", count | codec << 56, len(payload)) + payload


FP16, INT8, INT4_DELTA = 1, 2, 3
HALVES = struct.pack("<4H", 0x3800, 0xBC00, 0x4000, 0x0000)       # 0.5, -1, 2, 0
INT8_BLOCK = struct.pack("<If", 1, 2 / 127) + bytes([64, 0x81, 127, 0])  # 1 block, scale, 4 values
INT4_BLOCK = struct.pack("<If", 1, 0.01) + bytes([0x97, 0x03])          # 1 block, scale, 4 values: 7 -7 3 0


def exchange(params, msg_type=2, tail=b""):
    """An ExchangeRequest, or with msg_type 7 a Push, 3 an ExchangeReply: the same fields; `tail`
    is an ExchangeRequest's optional reply_codec."""
    return frame(msg_type, archive(seq(b"pi-1"), seq(b"gru-v1"), params, struct.pack("<QQ", 10, 100), tail))


PUSH, REPLY = 7, 3


def round_request(tail=b""):
    """A RoundRequest for round 3 in int8; `tail` is its optional reply_codec [and optimizer]."""
    return frame(32, archive(seq(b"coord"), seq(b"10.0.0.9:7070"), struct.pack("<Q", 3), seq(b"gru-v1"),
                             coded_params(INT8, INT8_BLOCK, 4), struct.pack("<QQ", 3, 0),
                             struct.pack("<IIf", 1, 32, 0.01), tail))


def round_reply(params):
    """A RoundReply for round 3 (in int4-delta, the participant's update)."""
    return frame(33, archive(seq(b"pi-1"), struct.pack("<Q", 3), seq(b"gru-v1"), params, struct.pack("<QQQ", 0, 100, 250)))


SEEDS = {
    "hello": frame(1, archive(seq(b"pi-1"), b"\x02", seq(b"gru-v1"), seq(b"node"), seq(b"10.0.0.1:7070"))),
    "exchange": frame(2, archive(seq(b"pi-1"), seq(b"gru-v1"), struct.pack("<Q4f", 4, 0.5, -1, 2, 0),
                                 struct.pack("<QQ", 10, 100))),
    "hello-codecs": frame(1, archive(seq(b"pi-1"), b"\x02", seq(b"gru-v1"), seq(b"node"), seq(b"10.0.0.1:7070"),
                                     seq(bytes([2, 1, 0])))),
    "exchange-fp16": exchange(coded_params(FP16, HALVES, 4)),
    "exchange-int8": exchange(coded_params(INT8, INT8_BLOCK, 4)),
    "round-int8": round_request(),
    "round-asks-difference": round_request(tail=bytes([INT4_DELTA])),
    "round-sgd": round_request(tail=bytes([0, 1])),
    "round-sgd-asks-difference": round_request(tail=bytes([INT4_DELTA, 1])),
    "round-unknown-optimizer": round_request(tail=bytes([0, 2])),
    "round-reply-int4-delta": round_reply(coded_params(INT4_DELTA, INT4_BLOCK, 4)),
    "round-reply-int4-nan-scale": round_reply(coded_params(INT4_DELTA, struct.pack("<II", 1, 0x7FC00000) + bytes(2), 4)),
    # Hostile coded models, each refused by the decoder: the fuzzer mutates from just past each check.
    "int8-nan-scale": exchange(coded_params(INT8, struct.pack("<II", 1, 0x7FC00000) + bytes(4), 4)),
    "int8-huge-scale": exchange(coded_params(INT8, struct.pack("<If", 1, 1e30) + bytes(4), 4)),
    "int8-negative-scale": exchange(coded_params(INT8, struct.pack("<If", 1, -0.5) + bytes(4), 4)),
    "int8-wrong-block-count": exchange(coded_params(INT8, struct.pack("<If", 2, 0.5) + bytes(4), 4)),
    "int8-short-block": exchange(coded_params(INT8, struct.pack("<If", 1, 0.5) + bytes(3), 4)),
    "int8-minus-128": exchange(coded_params(INT8, struct.pack("<If", 1, 0.5) + bytes([0x80, 0, 0, 0]), 4)),
    "fp16-infinity": exchange(coded_params(FP16, struct.pack("<4H", 0x3800, 0x7C00, 0, 0), 4)),
    "codec-unknown": exchange(coded_params(7, HALVES, 4)),
    "hello-features": frame(1, archive(seq(b"pi-1"), b"\x02", seq(b"gru-v1"), seq(b"node"), seq(b"10.0.0.1:7070"),
                                       seq(bytes([2, 1, 0])), b"\x01")),
    "push-int8": exchange(coded_params(INT8, INT8_BLOCK, 4), PUSH),
    "push-int8-nan-scale": exchange(coded_params(INT8, struct.pack("<II", 1, 0x7FC00000) + bytes(4), 4), PUSH),
    "push-ack": frame(8, archive(seq(b"pi-1"))),
    "exchange-asks-difference": exchange(coded_params(INT8, INT8_BLOCK, 4), tail=bytes([INT4_DELTA])),
    "exchange-asks-other-reply": exchange(coded_params(INT8, INT8_BLOCK, 4), tail=bytes([INT8])),
    "reply-int4-delta": exchange(coded_params(INT4_DELTA, INT4_BLOCK, 4), REPLY),
    "exchange-int4-delta": exchange(coded_params(INT4_DELTA, INT4_BLOCK, 4)),
    "int4-minus-8": exchange(coded_params(INT4_DELTA, struct.pack("<If", 1, 0.01) + bytes([0x87, 0x03]), 4), REPLY),
    "int4-padding": exchange(coded_params(INT4_DELTA, struct.pack("<If", 1, 0.01) + bytes([0x97, 0x13]), 3), REPLY),
    "int4-nan-scale": exchange(coded_params(INT4_DELTA, struct.pack("<II", 1, 0x7FC00000) + bytes(2), 4), REPLY),
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

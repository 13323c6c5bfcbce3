// The gossip wire format, in one header that the codec and both transports include.
// The full specification, with examples and the rules for changing it, is docs/wire.md.
//
// Every message is one frame: a fixed 12-byte header followed by `body_length` bytes of
// body (a Cereal PortableBinary archive of the message struct in messages.h).
//
//   offset size field
//   0      4    magic        "GLRN" (0x47 0x4C 0x52 0x4E)
//   4      1    version      kProtocolVersion; any other value closes the connection
//   5      1    type         MessageType
//   6      2    flags        little-endian; unknown bits set -> frame rejected
//   8      4    body_length  little-endian; > the receiver's limit -> rejected before allocation
//
// With kFlagAuthenticated set, the last kAuthTagBytes of the body (counted in body_length) are
// a ChaCha20-Poly1305 tag under the connection's key, with the direction and sequence number
// as the nonce, over the header and the rest of the body; with kFlagEncrypted also set, that
// rest is ciphertext. See gossip/wire/auth.h and docs/wire.md "Authentication".
//
// Values here are constants, so the header is safe to use from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gl::gossip {

inline constexpr std::array<std::uint8_t, 4> kFrameMagic = {'G', 'L', 'R', 'N'};
inline constexpr std::size_t kFrameHeaderSize = 4 /*magic*/ + 1 /*version*/ + 1 /*type*/ +
                                                2 /*flags*/ + 4 /*body length*/;

// Version 1: Hello, ExchangeRequest/Reply, Ping/Pong, Error; keyed BLAKE2b frame tags.
// Version 2: ChaCha20-Poly1305 frame tags (16 bytes), optional encryption (kFlagEncrypted);
// later Push/PushAck, sent only to peers whose Hello says they accept them (kHelloAcceptsPush).
// Bump on any incompatible change.
inline constexpr std::uint8_t kProtocolVersion = 2;

// Hard cap on a body, whatever the options say: 64 MiB (a Pi has 1-8 GiB; the model is ~300 KB).
inline constexpr std::uint32_t kMaxFrameBytes = 64u << 20;

// Longest string each message field may carry, in bytes; a longer one makes the frame
// malformed (Corruption at decode), so what a peer claims costs a bounded amount of memory,
// log and status however many frames it sends. Encoders never write longer strings: node ids
// and addresses are checked where they are configured, and Error reasons are cut to fit.
inline constexpr std::size_t kMaxIdBytes = 128;         // node_id, sender_id, coordinator_id
inline constexpr std::size_t kMaxAddressBytes = 272;    // "host:port": a 253-byte DNS name, brackets, port
inline constexpr std::size_t kMaxSignatureBytes = 256;  // model signature (nn/signature.h: ~30 bytes)
inline constexpr std::size_t kMaxRoleBytes = 16;        // "node" | "coordinator"
inline constexpr std::size_t kMaxReasonBytes = 1024;    // Error reason

// Append only; the values are wire format and must never be reused or renumbered.
enum class MessageType : std::uint8_t {
  kHello = 1,            // handshake: who I am, which model, which protocol
  kExchangeRequest = 2,  // push: my model; the reply is the responder's model
  kExchangeReply = 3,    // pull: the responder's model
  kPing = 4,             // liveness probe
  kPong = 5,             // answer to Ping
  kError = 6,            // request refused; the connection is closed after it
  kPush = 7,             // my model, none wanted back: the reply is a PushAck
  kPushAck = 8,          // answer to Push: the receiver's id, no model
  kAuthNonce = 16,       // keyed connections: each side's first frame, kAuthNonceBytes raw bytes
  // 9..15, 17..31: free for gossip messages.
  // 32..47: the round coordinator; see round_messages.h.
  kRoundRequest = 32,    // coordinator -> participant: global model + round settings
  kRoundReply = 33,      // participant -> coordinator: locally trained model + sample count
};
inline constexpr std::uint8_t kCoordinatorTypesFirst = 32;
inline constexpr std::uint8_t kCoordinatorTypesLast = 47;

// Flags bits. Bit 0: the body ends with a kAuthTagBytes tag (nodes with a cluster key send
// only such frames after the AuthNonce exchange). Bit 1, only with bit 0: the body before
// the tag is encrypted. Frames with other bits set are rejected.
inline constexpr std::uint16_t kFlagAuthenticated = 1u << 0;
inline constexpr std::uint16_t kFlagEncrypted = 1u << 1;
inline constexpr std::uint16_t kKnownFlags = kFlagAuthenticated | kFlagEncrypted;
inline constexpr std::size_t kAuthNonceBytes = 16;
inline constexpr std::size_t kAuthTagBytes = 16;

// ---- Model codecs (docs/wire.md "Model codecs") ----
// How a model's parameter vector is coded in ExchangeRequest/Reply and RoundRequest/Reply.
// The u64 that counts the values carries the codec in its top byte, so an fp32 model
// (codec 0) is coded exactly as before codecs existed and older builds read it. A node
// lists the codecs it accepts in its Hello; a pair uses the most compact one both list.
// Append only; the values are wire format.
enum class ModelCodec : std::uint8_t {
  kFp32 = 0,  // IEEE binary32 little-endian; every node accepts it
  kFp16 = 1,  // IEEE binary16 little-endian, rounded to nearest even
  kInt8 = 2,  // symmetric int8, one f32 scale (max|x| / 127) per kInt8BlockValues values
  // An ExchangeReply only, to a request that asked for it: the replier's model minus the
  // request's model (as decoded), in symmetric int4, two a byte, one f32 scale (max|d| / 7)
  // per kInt4BlockValues. Two gossiping models are close, so their difference takes about
  // half of int8's bytes at a fraction of its error (docs/wire.md "Delta replies").
  kInt4Delta = 3,
};
inline constexpr int kModelCodecShift = 56;  // codec id = count word >> 56
inline constexpr std::uint64_t kModelCountMask = (std::uint64_t{1} << kModelCodecShift) - 1;
inline constexpr std::size_t kInt8BlockValues = 256;
// Smaller blocks than int8's: with 7 steps a side, a block's largest value sets the error of
// every other one.
inline constexpr std::size_t kInt4BlockValues = 64;
// Largest magnitude coded (non-fp32) frames carry (the largest finite binary16): a model
// with a larger or non-finite value is sent as fp32. An int8 scale lies in (0, this / 127],
// an int4 scale in (0, this / 7].
inline constexpr float kMaxCodedMagnitude = 65504.0f;
inline constexpr float kMaxInt8Scale = kMaxCodedMagnitude / 127.0f;
inline constexpr float kMaxInt4Scale = kMaxCodedMagnitude / 7.0f;
// Entries a Hello's codec list may have.
inline constexpr std::size_t kMaxCodecListEntries = 16;

// Bits of a Hello's `features` (docs/wire.md "Push"); unknown bits are ignored. Append only.
inline constexpr std::uint8_t kHelloAcceptsPush = 1u << 0;  // the sender answers Push with PushAck
// The sender reads a RoundRequest's reply_codec (docs/wire.md "Delta replies"); set only with
// int4-delta in its codec list.
inline constexpr std::uint8_t kHelloTakesRoundDifferences = 1u << 1;
// The sender reads a RoundRequest's optimizer field and trains with plain SGD when asked
// (docs/wire.md "Round optimizer").
inline constexpr std::uint8_t kHelloTrainsWithSgd = 1u << 2;

// True for the message types this protocol version understands.
constexpr bool IsKnownMessageType(std::uint8_t type) {
  if (type == static_cast<std::uint8_t>(MessageType::kAuthNonce)) return true;
  return (type >= static_cast<std::uint8_t>(MessageType::kHello) &&
          type <= static_cast<std::uint8_t>(MessageType::kPushAck)) ||
         (type >= static_cast<std::uint8_t>(MessageType::kRoundRequest) &&
          type <= static_cast<std::uint8_t>(MessageType::kRoundReply));
}

// A frame as the transports carry it: the type from the header and the undecoded body.
// `flags` are the header's as received (ReadFrame, DecodeFrame); senders leave them 0, and
// only AuthSession::Seal puts any on the wire.
struct Frame {
  MessageType type = MessageType::kError;
  std::vector<std::uint8_t> body;
  std::uint16_t flags = 0;
};

}  // namespace gl::gossip

// libFuzzer target: frame decoding and message parsing, as a node meets untrusted bytes.
// Any input must decode or be rejected with a Status: no crash, no sanitizer report, no
// allocation beyond what the input's own length allows. Built with clang only (run_fuzz.sh).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "gossip/wire/auth.h"
#include "gossip/wire/codec.h"
#include "gossip/wire/messages.h"
#include "gossip/wire/round_messages.h"

namespace gl::gossip {
namespace {

constexpr std::uint32_t kMaxBody = 1u << 20;

template <class Message>
void TryDecode(Frame frame) {
  frame.type = Message::kType;
  (void)DecodeMessage<Message>(frame);
}

// The receiving half of a keyed connection, without and with encryption, fed the input as
// its first sealed frame the way the transport feeds it: header, then the body in pieces
// (one cipher block each here, so that short inputs span several).
void TryOpen(const FrameHeader& header, const Frame& frame) {
  static const ClusterKey key{};  // fixed: the fuzzer cannot know a tag, it probes the checks
  for (const bool encrypt : {false, true}) {
    AuthSession session(key, AuthRole::kServer, encrypt);
    if (!session.AcceptPeerNonce(AuthSession(key, AuthRole::kClient).NonceFrame()).ok()) return;
    Frame received = frame;
    session.BeginOpen(header);
    const std::span<std::uint8_t> body(received.body);
    for (std::size_t offset = 0; offset < body.size(); offset += kCipherBlockBytes) {
      session.OpenPiece(body.subspan(offset, std::min(kCipherBlockBytes, body.size() - offset)));
    }
    (void)session.FinishOpen(std::move(received));
  }
}

}  // namespace
}  // namespace gl::gossip

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gl::gossip;
  const std::span<const std::uint8_t> bytes(data, size);
  gl::Result<FrameHeader> header = ParseHeader(bytes, kMaxBody);
  // As a whole frame, then the same bytes as a body of every message type.
  gl::Result<Frame> frame = DecodeFrame(bytes, kMaxBody);
  if (header.ok() && frame.ok()) TryOpen(*header, *frame);
  const Frame body{MessageType::kError, std::vector<std::uint8_t>(data, data + size)};
  TryDecode<Hello>(body);
  TryDecode<ExchangeRequest>(body);
  TryDecode<ExchangeReply>(body);
  TryDecode<Push>(body);
  TryDecode<PushAck>(body);
  TryDecode<Ping>(body);
  TryDecode<Pong>(body);
  TryDecode<Error>(body);
  TryDecode<RoundRequest>(body);
  TryDecode<RoundReply>(body);
  return 0;
}

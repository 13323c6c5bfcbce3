// Pure encoding and decoding of frames and messages: no I/O, no state, any thread.
//
// Decoding never throws and never allocates according to an unchecked length: the header is
// validated (magic, version, type, flags, length <= limit) before a body buffer exists, and
// Cereal errors in a body become Status::Corruption.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "common/status.h"
#include "gossip/wire/frame_format.h"
#include "gossip/wire/messages.h"

namespace gl::gossip {

struct FrameHeader {
  MessageType type = MessageType::kError;
  std::uint16_t flags = 0;
  std::uint32_t body_length = 0;
};

std::array<std::uint8_t, kFrameHeaderSize> EncodeHeader(MessageType type, std::uint32_t body_length,
                                                        std::uint16_t flags = 0);

// Validates the first kFrameHeaderSize bytes of `bytes`. Corruption names the first problem:
// truncated header, bad magic, wrong version, unknown type, unknown flags, the encrypted flag
// without the authenticated one, an authenticated flag on a body too short for the tag, or a
// body length above min(max_body_bytes, kMaxFrameBytes).
Result<FrameHeader> ParseHeader(std::span<const std::uint8_t> bytes, std::uint32_t max_body_bytes);

// Header + body in one buffer.
std::vector<std::uint8_t> EncodeFrame(const Frame& frame);
// Exactly one whole frame; a truncated body or trailing bytes are Corruption.
Result<Frame> DecodeFrame(std::span<const std::uint8_t> bytes, std::uint32_t max_body_bytes);

// A body limit that fits a model of `param_count` floats plus ids, signature and metadata.
std::uint32_t MaxBodyBytesForModel(std::size_t param_count);

namespace internal {
std::vector<std::uint8_t> WriteBody(const std::function<void(OutputArchive&)>& write);
// Runs `read` over `body`; any exception (truncation, forged length, trailing bytes) -> Corruption.
Status ReadBody(std::span<const std::uint8_t> body, const std::function<void(InputArchive&)>& read);
}  // namespace internal

template <class Message>
Frame EncodeMessage(const Message& message) {
  return Frame{Message::kType, internal::WriteBody([&](OutputArchive& ar) { ar(message); })};
}

// Corruption if the frame is of another type or its body does not decode to exactly a Message.
template <class Message>
Result<Message> DecodeMessage(const Frame& frame) {
  if (frame.type != Message::kType) {
    return Status::Corruption("expected message type " + std::to_string(static_cast<int>(Message::kType)) +
                              ", got " + std::to_string(static_cast<int>(frame.type)));
  }
  Message message;
  Status status = internal::ReadBody(frame.body, [&](InputArchive& ar) { ar(message); });
  if (!status.ok()) return status;
  return message;
}

}  // namespace gl::gossip

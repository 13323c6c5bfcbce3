#include "gossip/wire/codec.h"

#include <algorithm>
#include <exception>
#include <istream>
#include <ostream>
#include <streambuf>
#include <string>

#include "gossip/wire/model_codec.h"

namespace gl::gossip {
namespace {

constexpr std::size_t kVersionOffset = 4;
constexpr std::size_t kTypeOffset = 5;
constexpr std::size_t kFlagsOffset = 6;
constexpr std::size_t kLengthOffset = 8;
// Room in a model-carrying body beyond the floats: ids, signature, counters, size tags.
constexpr std::uint32_t kModelBodySlack = 16u << 10;

// Appends everything written to it to a byte vector.
class VectorSink : public std::streambuf {
 public:
  explicit VectorSink(std::vector<std::uint8_t>& out) : out_(out) {}

 protected:
  int_type overflow(int_type ch) override {
    if (ch != traits_type::eof()) out_.push_back(static_cast<std::uint8_t>(ch));
    return ch;
  }
  std::streamsize xsputn(const char* data, std::streamsize n) override {
    out_.insert(out_.end(), data, data + n);
    return n;
  }

 private:
  std::vector<std::uint8_t>& out_;
};

// Reads a span in place, without copying it.
class SpanSource : public std::streambuf {
 public:
  explicit SpanSource(std::span<const std::uint8_t> bytes) {
    // std::streambuf wants char*, but never writes through the get area.
    char* begin = reinterpret_cast<char*>(const_cast<std::uint8_t*>(bytes.data()));
    setg(begin, begin, begin + bytes.size());
  }
  std::size_t Remaining() const { return static_cast<std::size_t>(egptr() - gptr()); }
};

}  // namespace

std::array<std::uint8_t, kFrameHeaderSize> EncodeHeader(MessageType type, std::uint32_t body_length,
                                                        std::uint16_t flags) {
  std::array<std::uint8_t, kFrameHeaderSize> header{};
  std::copy(kFrameMagic.begin(), kFrameMagic.end(), header.begin());
  header[kVersionOffset] = kProtocolVersion;
  header[kTypeOffset] = static_cast<std::uint8_t>(type);
  header[kFlagsOffset] = static_cast<std::uint8_t>(flags);
  header[kFlagsOffset + 1] = static_cast<std::uint8_t>(flags >> 8);
  for (int i = 0; i < 4; ++i) header[kLengthOffset + i] = static_cast<std::uint8_t>(body_length >> (8 * i));
  return header;
}

Result<FrameHeader> ParseHeader(std::span<const std::uint8_t> bytes, std::uint32_t max_body_bytes) {
  if (bytes.size() < kFrameHeaderSize) {
    return Status::Corruption("truncated header: " + std::to_string(bytes.size()) + " of " +
                              std::to_string(kFrameHeaderSize) + " bytes");
  }
  if (!std::equal(kFrameMagic.begin(), kFrameMagic.end(), bytes.begin())) {
    return Status::Corruption("bad magic (not a gossip-learner frame)");
  }
  if (bytes[kVersionOffset] != kProtocolVersion) {
    return Status::Corruption("protocol version " + std::to_string(bytes[kVersionOffset]) + ", this node speaks " +
                              std::to_string(kProtocolVersion));
  }
  if (!IsKnownMessageType(bytes[kTypeOffset])) {
    return Status::Corruption("unknown message type " + std::to_string(bytes[kTypeOffset]));
  }
  FrameHeader header;
  header.type = static_cast<MessageType>(bytes[kTypeOffset]);
  header.flags = static_cast<std::uint16_t>(bytes[kFlagsOffset] | (bytes[kFlagsOffset + 1] << 8));
  if ((header.flags & ~kKnownFlags) != 0) {
    return Status::Corruption("unsupported flag bits " + std::to_string(header.flags));
  }
  for (int i = 0; i < 4; ++i) header.body_length |= std::uint32_t{bytes[kLengthOffset + i]} << (8 * i);
  if ((header.flags & kFlagEncrypted) != 0 && (header.flags & kFlagAuthenticated) == 0) {
    return Status::Corruption("encrypted flag set without the authenticated flag");
  }
  if ((header.flags & kFlagAuthenticated) != 0 && header.body_length < kAuthTagBytes) {
    return Status::Corruption("authenticated flag set on a " + std::to_string(header.body_length) +
                              "-byte body, shorter than the MAC");
  }
  const std::uint32_t limit = std::min(max_body_bytes, kMaxFrameBytes);
  if (header.body_length > limit) {
    return Status::Corruption("body length " + std::to_string(header.body_length) + " exceeds the limit of " +
                              std::to_string(limit) + " bytes");
  }
  return header;
}

std::vector<std::uint8_t> EncodeFrame(const Frame& frame) {
  const auto header = EncodeHeader(frame.type, static_cast<std::uint32_t>(frame.body.size()));
  std::vector<std::uint8_t> bytes(header.size() + frame.body.size());
  std::copy(header.begin(), header.end(), bytes.begin());
  std::copy(frame.body.begin(), frame.body.end(), bytes.begin() + static_cast<std::ptrdiff_t>(header.size()));
  return bytes;
}

Result<Frame> DecodeFrame(std::span<const std::uint8_t> bytes, std::uint32_t max_body_bytes) {
  Result<FrameHeader> header = ParseHeader(bytes, max_body_bytes);
  if (!header.ok()) return header.status();
  const std::size_t body_bytes = bytes.size() - kFrameHeaderSize;
  if (body_bytes != header->body_length) {
    return Status::Corruption("body is " + std::to_string(body_bytes) + " bytes, header says " +
                              std::to_string(header->body_length));
  }
  const auto body = bytes.subspan(kFrameHeaderSize);
  return Frame{header->type, std::vector<std::uint8_t>(body.begin(), body.end()), header->flags};
}

std::uint32_t MaxBodyBytesForModel(std::size_t param_count) {
  const std::size_t bytes = param_count * sizeof(float) + kModelBodySlack;
  return static_cast<std::uint32_t>(std::min<std::size_t>(bytes, kMaxFrameBytes));
}

void SaveParams(cereal::PortableBinaryOutputArchive& ar, const std::vector<float>& params, ModelCodec codec) {
  std::vector<std::uint8_t> payload;
  if (codec != ModelCodec::kFp32 && EncodeValues(codec, params, payload)) {
    const std::uint64_t word = params.size() | std::uint64_t{static_cast<std::uint8_t>(codec)} << kModelCodecShift;
    const std::uint64_t payload_bytes = payload.size();
    ar(word, payload_bytes);
    ar(cereal::binary_data(payload.data(), payload.size()));
    return;
  }
  const std::uint64_t count = params.size();
  ar(count);
  ar(cereal::binary_data(params.data(), params.size() * sizeof(float)));
}

void LoadParams(cereal::PortableBinaryInputArchive& ar, std::vector<float>& params, ModelCodec& codec) {
  const std::size_t body_bytes = Bounded(ar).max_sequence_bytes();
  std::uint64_t word = 0;
  ar(word);
  const auto id = static_cast<std::uint8_t>(word >> kModelCodecShift);
  const std::uint64_t count = word & kModelCountMask;
  if (!IsKnownCodec(id)) throw cereal::Exception("unknown model codec " + std::to_string(id));
  codec = static_cast<ModelCodec>(id);
  if (codec == ModelCodec::kFp32) {
    if (count > body_bytes / sizeof(float)) {
      throw cereal::Exception("params of " + std::to_string(count) + " elements exceeds the body");
    }
    params.resize(count);
    ar(cereal::binary_data(params.data(), count * sizeof(float)));
    return;
  }
  std::uint64_t payload_bytes = 0;
  ar(payload_bytes);
  // Every coded value takes at least half a byte, so `count` is bounded by the body too.
  if (count / 2 > body_bytes || payload_bytes > body_bytes) {
    throw cereal::Exception(CodecName(codec) + " model of " + std::to_string(count) + " values in " +
                            std::to_string(payload_bytes) + " bytes exceeds the body");
  }
  std::vector<std::uint8_t> payload(payload_bytes);
  ar(cereal::binary_data(payload.data(), payload.size()));
  params.resize(count);
  if (Status decoded = DecodeValues(codec, payload, params); !decoded.ok()) throw cereal::Exception(decoded.message());
}

namespace internal {

std::vector<std::uint8_t> WriteBody(const std::function<void(OutputArchive&)>& write) {
  std::vector<std::uint8_t> body;
  VectorSink sink(body);
  std::ostream stream(&sink);
  {
    OutputArchive archive(stream);
    write(archive);
  }
  return body;
}

Status ReadBody(std::span<const std::uint8_t> body, const std::function<void(InputArchive&)>& read) {
  SpanSource source(body);
  std::istream stream(&source);
  try {
    InputArchive archive(stream, body.size());
    read(archive);
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("malformed body: ") + e.what());
  }
  if (source.Remaining() != 0) {
    return Status::Corruption("malformed body: " + std::to_string(source.Remaining()) + " trailing bytes");
  }
  return Status::Ok();
}

}  // namespace internal
}  // namespace gl::gossip

// The gossip message structs and their Cereal serialization (PortableBinary, little-endian).
// Each struct names its MessageType in `kType`; codec.h turns them into Frames and back.
//
// Decoding is hardened: every string or vector length read from a body is checked against
// the body size (InputArchive) before anything is allocated, so a forged length cannot make
// the decoder allocate more than the body it was given (a coded model: 4 bytes per value, and
// a value takes at least half a byte of body); every string also against its field's limit
// (frame_format.h kMax*Bytes), so no claim a peer makes is longer than that. A coded model is
// checked whole (model_codec.h) before any of its values is used. Plain values; no threading concerns.
#pragma once

#include <cereal/archives/portable_binary.hpp>
#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "gossip/wire/frame_format.h"
#include "gossip/model_snapshot.h"

namespace gl::gossip {

// The only archive messages are decoded with: no decoded sequence may exceed
// `max_sequence_bytes` (the body size).
class InputArchive : public cereal::PortableBinaryInputArchive {
 public:
  InputArchive(std::istream& stream, std::size_t max_sequence_bytes)
      : cereal::PortableBinaryInputArchive(stream), stream_(stream), max_sequence_bytes_(max_sequence_bytes) {}
  std::size_t max_sequence_bytes() const { return max_sequence_bytes_; }
  // True once every byte of the body was read: how an optional last field is told apart.
  bool AtEnd() const { return stream_.rdbuf()->in_avail() <= 0; }

 private:
  std::istream& stream_;
  std::size_t max_sequence_bytes_;
};

// The InputArchive behind a Cereal archive reference; throws if messages are decoded without one.
inline const InputArchive& Bounded(const cereal::PortableBinaryInputArchive& ar) {
  const auto* bounded = dynamic_cast<const InputArchive*>(&ar);
  if (bounded == nullptr) throw cereal::Exception("messages must be decoded with gossip::InputArchive");
  return *bounded;
}
using OutputArchive = cereal::PortableBinaryOutputArchive;

// A string or vector of arithmetic values as u64 count + raw elements, at most `max_items`
// of them (frame_format.h kMax*Bytes for strings). When loading, the count is checked against
// `max_items` and InputArchive's limit before anything is allocated (a violation throws
// cereal::Exception naming `field`, which the codec turns into Corruption). When saving, only
// the first `max_items` elements are written, so an encoder never makes a frame its peer
// must refuse.
template <class Archive, class Container>
void BoundedSequence(Archive& ar, Container& items, std::size_t max_items = SIZE_MAX,
                     const char* field = "sequence") {
  using Element = typename Container::value_type;
  static_assert(std::is_arithmetic_v<Element>, "only flat sequences go on the wire");
  std::uint64_t count = std::min<std::uint64_t>(items.size(), max_items);
  ar(count);
  if constexpr (Archive::is_loading::value) {
    if (count > Bounded(ar).max_sequence_bytes() / sizeof(Element)) {
      throw cereal::Exception(std::string(field) + " of " + std::to_string(count) + " elements exceeds the body");
    }
    if (count > max_items) {
      throw cereal::Exception(std::string(field) + " of " + std::to_string(count) + " elements exceeds its limit of " +
                              std::to_string(max_items));
    }
    items.resize(count);
  }
  ar(cereal::binary_data(items.data(), count * sizeof(Element)));
}

// A model's parameter vector coded as `codec` (docs/wire.md "Model codecs"); a codec that
// cannot carry the values (model_codec.h EncodeValues) writes them as fp32. Defined in codec.cc.
void SaveParams(cereal::PortableBinaryOutputArchive& ar, const std::vector<float>& params, ModelCodec codec);
// Reads what SaveParams wrote; `codec` becomes the codec it was sent in. Any violation of
// model_codec.h's checks, or an unknown codec id, throws cereal::Exception.
void LoadParams(cereal::PortableBinaryInputArchive& ar, std::vector<float>& params, ModelCodec& codec);

// A model field: signature, parameters in `codec`, age, local_samples. Only an ExchangeReply
// or a RoundReply may carry a difference (kInt4Delta, `difference_allowed`); anywhere else it
// is refused.
template <class Archive>
void ModelField(Archive& ar, ModelSnapshot& model, ModelCodec& codec, bool difference_allowed = false) {
  BoundedSequence(ar, model.signature, kMaxSignatureBytes, "signature");
  if constexpr (Archive::is_loading::value) {
    LoadParams(ar, model.params, codec);
    if (codec == ModelCodec::kInt4Delta && !difference_allowed) {
      throw cereal::Exception("int4-delta codes only a reply, not a whole model");
    }
  } else {
    SaveParams(ar, model.params, codec);
  }
  ar(model.age, model.local_samples);
}

// The optional last field of a request that asks for its reply as a difference from the
// request's model: kInt4Delta, sent only to a peer whose Hello lists int4-delta (a build that
// predates the field refuses a request that has it); kFp32 = not sent: a whole model back.
template <class Archive>
void ReplyCodecField(Archive& ar, ModelCodec& reply_codec) {
  bool has_reply_codec = reply_codec != ModelCodec::kFp32;
  if constexpr (Archive::is_loading::value) has_reply_codec = !Bounded(ar).AtEnd();
  if (!has_reply_codec) return;
  auto id = static_cast<std::uint8_t>(reply_codec);
  ar(id);
  if (id != static_cast<std::uint8_t>(ModelCodec::kInt4Delta)) {
    throw cereal::Exception("reply codec " + std::to_string(id) + ", only int4-delta (3) may be asked for");
  }
  reply_codec = ModelCodec::kInt4Delta;
}

struct Hello {
  static constexpr MessageType kType = MessageType::kHello;
  std::string node_id;
  std::uint8_t protocol_version = kProtocolVersion;
  std::string signature;       // ModelSnapshot::signature of the sender's model
  std::string role;            // "node" | "coordinator"
  std::string listen_address;  // "host:port" the sender accepts gossip on
  // ModelCodec ids of the models the sender accepts. Optional last field: empty means not
  // sent, as by an older build, which reads only fp32 and refuses a Hello that has the field.
  std::vector<std::uint8_t> codecs{};
  // kHello* bits. Optional, after `codecs` and only with them: 0 means not sent, as by a build
  // that predates it, which refuses a Hello that has the field.
  std::uint8_t features = 0;

  template <class Archive>
  void serialize(Archive& ar) {
    BoundedSequence(ar, node_id, kMaxIdBytes, "node_id");
    ar(protocol_version);
    BoundedSequence(ar, signature, kMaxSignatureBytes, "signature");
    BoundedSequence(ar, role, kMaxRoleBytes, "role");
    BoundedSequence(ar, listen_address, kMaxAddressBytes, "listen_address");
    bool has_codecs = !codecs.empty();
    if constexpr (Archive::is_loading::value) has_codecs = !Bounded(ar).AtEnd();
    if (!has_codecs) return;
    BoundedSequence(ar, codecs, kMaxCodecListEntries, "codecs");
    bool has_features = features != 0;
    if constexpr (Archive::is_loading::value) has_features = !Bounded(ar).AtEnd();
    if (has_features) ar(features);
  }
};

// ExchangeRequest (push of a push-pull), ExchangeReply (pull) and Push (a model, none back)
// carry the same fields.
template <MessageType kMessageType>
struct ModelMessage {
  static constexpr MessageType kType = kMessageType;
  std::string sender_id;
  ModelSnapshot model;  // in an int4-delta ExchangeReply: the difference from the request's model
  ModelCodec codec = ModelCodec::kFp32;  // of model.params on the wire (as sent, when decoded)
  // ExchangeRequest only: kInt4Delta asks for the reply as a difference from this request's
  // model (ReplyCodecField).
  ModelCodec reply_codec = ModelCodec::kFp32;

  template <class Archive>
  void serialize(Archive& ar) {
    BoundedSequence(ar, sender_id, kMaxIdBytes, "sender_id");
    ModelField(ar, model, codec, kMessageType == MessageType::kExchangeReply);
    if constexpr (kMessageType == MessageType::kExchangeRequest) ReplyCodecField(ar, reply_codec);
  }
};
using ExchangeRequest = ModelMessage<MessageType::kExchangeRequest>;
using ExchangeReply = ModelMessage<MessageType::kExchangeReply>;
using Push = ModelMessage<MessageType::kPush>;

// Ping, Pong and PushAck carry the same field.
template <MessageType kMessageType>
struct ProbeMessage {
  static constexpr MessageType kType = kMessageType;
  std::string node_id;

  template <class Archive>
  void serialize(Archive& ar) {
    BoundedSequence(ar, node_id, kMaxIdBytes, "node_id");
  }
};
using Ping = ProbeMessage<MessageType::kPing>;
using Pong = ProbeMessage<MessageType::kPong>;
using PushAck = ProbeMessage<MessageType::kPushAck>;

struct Error {
  static constexpr MessageType kType = MessageType::kError;
  std::string reason;

  template <class Archive>
  void serialize(Archive& ar) {
    BoundedSequence(ar, reason, kMaxReasonBytes, "reason");
  }
};

}  // namespace gl::gossip

// The round coordinator's messages, types 32..47 of the wire format; spec in
// docs/wire.md. Encoded with codec.h like the gossip messages (same hardened archive).
//
// A RoundRequest is answered only when the participant has trained, which may take minutes
// on a Pi: the participant extends the serving transport's reply deadline to the round
// deadline (Respond::ExpectReplyWithin), and liveness meanwhile is shown by the engine's
// Ping/Pong probes.
// Plain values; no threading concerns.
#pragma once

#include <cstdint>
#include <string>

#include "gossip/wire/messages.h"

namespace gl::gossip {

// The limits of a RoundRequest's training fields: a participant refuses a request outside them
// (RoundParticipant), and a coordinator's configuration must lie inside them (node/config.cc).
inline constexpr std::uint32_t kMaxRoundEpochs = 1000;
inline constexpr std::uint32_t kMaxRoundBatchSize = 4096;
inline constexpr float kMaxRoundLearningRate = 1.0f;  // exclusive; NaN and Inf are refused too

// How a participant steps in its local epochs: Adam (its own moments, kept across rounds) or
// plain SGD (FedSGD with an adaptive server optimizer: docs/wire.md "Round optimizer").
enum class LocalOptimizer : std::uint8_t { kAdam = 0, kSgd = 1 };

// The optional last fields of a RoundRequest: [reply_codec: u8 [, optimizer: u8]]. reply_codec
// is 3 (int4-delta, ReplyCodecField) or, only when an optimizer follows, 0 (a whole model
// back); the optimizer goes only to a participant whose Hello has kHelloTrainsWithSgd (a build
// that predates it refuses a request that has it), and only when it is not Adam.
template <class Archive>
void RoundTailFields(Archive& ar, ModelCodec& reply_codec, LocalOptimizer& optimizer) {
  if constexpr (Archive::is_loading::value) {
    if (Bounded(ar).AtEnd()) return;
    std::uint8_t codec_id = 0;
    ar(codec_id);
    if (codec_id == static_cast<std::uint8_t>(ModelCodec::kInt4Delta)) {
      reply_codec = ModelCodec::kInt4Delta;
    } else if (codec_id != static_cast<std::uint8_t>(ModelCodec::kFp32) || Bounded(ar).AtEnd()) {
      throw cereal::Exception("reply codec " + std::to_string(codec_id) + ", only int4-delta (3) may be asked for");
    }
    if (Bounded(ar).AtEnd()) return;
    std::uint8_t optimizer_id = 0;
    ar(optimizer_id);
    if (optimizer_id != static_cast<std::uint8_t>(LocalOptimizer::kSgd)) {
      throw cereal::Exception("optimizer " + std::to_string(optimizer_id) + ", only sgd (1) may be asked for");
    }
    optimizer = LocalOptimizer::kSgd;
  } else {
    if (optimizer == LocalOptimizer::kAdam) return ReplyCodecField(ar, reply_codec);
    if (reply_codec != ModelCodec::kFp32 && reply_codec != ModelCodec::kInt4Delta) {
      throw cereal::Exception("reply codec " + std::to_string(static_cast<int>(reply_codec)) +
                              ", only int4-delta (3) may be asked for");
    }
    ar(static_cast<std::uint8_t>(reply_codec), static_cast<std::uint8_t>(optimizer));
  }
}

// Coordinator -> participant: "start from `model`, train `epochs` local epochs, send it back".
struct RoundRequest {
  static constexpr MessageType kType = MessageType::kRoundRequest;
  std::string coordinator_id;
  std::string coordinator_address;  // "host:port" it listens on; a claim, for logs only: participants
                                    // know their coordinator as a peer (RoundParticipant)
  std::uint64_t round = 0;
  ModelSnapshot model;              // the global model
  std::uint32_t epochs = 1;
  std::uint32_t batch_size = 32;
  float learning_rate = 3e-3f;
  ModelCodec codec = ModelCodec::kFp32;  // of model.params on the wire; the reply uses it too
  // kInt4Delta asks for the reply as the trained model minus `model` as the participant
  // decoded it (RoundTailFields: optional).
  ModelCodec reply_codec = ModelCodec::kFp32;
  LocalOptimizer optimizer = LocalOptimizer::kAdam;  // RoundTailFields: optional last field

  template <class Archive>
  void serialize(Archive& ar) {
    BoundedSequence(ar, coordinator_id, kMaxIdBytes, "coordinator_id");
    BoundedSequence(ar, coordinator_address, kMaxAddressBytes, "coordinator_address");
    ar(round);
    ModelField(ar, model, codec);
    ar(epochs, batch_size, learning_rate);
    RoundTailFields(ar, reply_codec, optimizer);
  }
};

// Participant -> coordinator: the locally trained model (in int4-delta: its difference from
// the request's model); model.local_samples is the number of local training samples (FedAvg's
// weight).
struct RoundReply {
  static constexpr MessageType kType = MessageType::kRoundReply;
  std::string sender_id;
  std::uint64_t round = 0;
  ModelSnapshot model;
  std::uint64_t train_ms = 0;  // time spent training, so the coordinator can tell its own overhead
  ModelCodec codec = ModelCodec::kFp32;  // of model.params on the wire

  template <class Archive>
  void serialize(Archive& ar) {
    BoundedSequence(ar, sender_id, kMaxIdBytes, "sender_id");
    ar(round);
    ModelField(ar, model, codec, /*difference_allowed=*/true);
    ar(train_ms);
  }
};

}  // namespace gl::gossip

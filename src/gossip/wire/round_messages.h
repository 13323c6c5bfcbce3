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
  // decoded it (ReplyCodecField: optional last field).
  ModelCodec reply_codec = ModelCodec::kFp32;

  template <class Archive>
  void serialize(Archive& ar) {
    BoundedSequence(ar, coordinator_id, kMaxIdBytes, "coordinator_id");
    BoundedSequence(ar, coordinator_address, kMaxAddressBytes, "coordinator_address");
    ar(round);
    ModelField(ar, model, codec);
    ar(epochs, batch_size, learning_rate);
    ReplyCodecField(ar, reply_codec);
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

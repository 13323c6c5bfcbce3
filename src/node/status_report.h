// The node's status document (JSON), as served on the status socket. Every key is listed in
// docs/ARCHITECTURE.md "Status document" (a test holds the two together); peer states are
// rendered as their PeerStateName. Pure formatting: callers gather the inputs.
#pragma once

#include <string>
#include <vector>

#include <optional>

#include "gossip/engine.h"
#include "gossip/wire/tcp_transport.h"
#include "gossip/rounds/round_driver.h"
#include "gossip/rounds/round_participant.h"
#include "node/node_round_worker.h"
#include "node/training_loop.h"

namespace gl::node {

struct StatusInputs {
  std::string id;
  std::string cluster;
  std::string role;
  std::string listen;
  std::string signature;
  double uptime_s = 0;
  TrainingProgress training;
  std::size_t offers_dropped = 0;  // received models dropped unmerged: more queued than one minibatch takes
  std::string scored_model_path;  // where the model that validation/eval score is saved
  std::vector<float> params;  // current published parameters; only a sample is reported
  gossip::EngineStats engine;
  gossip::SecurityStats security;  // from the transport: auth failures per host, throttling
  bool authenticated = false;      // the node has a cluster key
  std::vector<gossip::PeerStatus> peers;
  std::optional<gossip::ParticipantStats> participant;  // nodes: coordinator mode as a participant
  std::optional<gossip::RoundStats> rounds;             // coordinators
  GlobalScores global;                                  // coordinators: scores of the global model
};

// Number of evenly spaced parameters reported as `param_sample`, so that tools can
// estimate the distance between two nodes' models without a full dump.
inline constexpr std::size_t kParamSampleSize = 1024;
// Peers listed in `peers` at most (`peers_total` counts them all), so that the document
// stays small and quick to render however many peers were added: with the per-peer maps
// capped too (peer_key.h kMaxCountedPeers, the transport's auth_failures) and every
// string bounded at decode (frame_format.h), it stays under ~200 KB.
inline constexpr std::size_t kMaxStatusPeers = 64;

std::string RenderStatus(const StatusInputs& in);

}  // namespace gl::node

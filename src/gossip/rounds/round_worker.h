// RoundWorker: what the round protocol needs from the node that owns the real model. The
// gossip layer knows models only as flat vectors; the node trains and evaluates them on its
// training thread (node/node_round_worker.h implements this interface).
//
// Threading: every method is called on the io thread and must return at once; the `done`
// callbacks may be called from any thread (RoundDriver and RoundParticipant post them back
// to the io thread) and exactly once.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "common/status.h"
#include "gossip/rounds/strategy.h"

namespace gl::gossip {

// The result of one participant's local training.
struct LocalTraining {
  std::vector<float> params;
  std::uint64_t samples = 0;   // size of the local training set (FedAvg's weight)
  std::uint64_t train_ms = 0;  // time spent training
};

class RoundWorker {
 public:
  using TrainDone = std::function<void(Result<LocalTraining>)>;
  virtual ~RoundWorker() = default;
  // Participant (and a coordinator that trains too): set the model to `global`, train as
  // `config` says, report the result.
  virtual void Train(std::uint64_t round, std::vector<float> global, const RoundConfig& config, TrainDone done) = 0;
  // Participant: a coordinator now leads (federated = true: stop free training, only serve
  // rounds) or is gone (federated = false: resume free training and gossip from
  // `last_global`, empty if no round was ever received).
  virtual void SetFederated(bool federated, const std::vector<float>& last_global) = 0;
  // Coordinator: round `round` produced `global`, and left the strategy's server optimizer in
  // `server_state`; evaluate and checkpoint both (asynchronously).
  virtual void PublishGlobal(std::uint64_t round, const std::vector<float>& global,
                             ServerOptimizerState server_state) = 0;
};

}  // namespace gl::gossip

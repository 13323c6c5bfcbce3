// Strategy: the policy of a federated round, in the shape of Flower's (configure a round ->
// aggregate its results). No I/O, no clocks, no threads: RoundDriver owns the loop and calls
// ConfigureRound at the start of each round and Aggregate when its replies are in.
//
// Models are flat parameter vectors (as everywhere in gossip). Threading: a Strategy is not
// thread-safe; the driver uses it from its io thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "gossip/rounds/server_optimizer.h"
#include "gossip/wire/round_messages.h"

namespace gl::gossip {

// What a participant is asked to do with the global model in one round.
struct RoundConfig {
  std::uint32_t epochs = 1;        // local epochs E over the participant's own training data
  std::uint32_t batch_size = 32;   // minibatch size
  float learning_rate = 3e-3f;     // the local optimizer's learning rate for this round
  // Adam; or plain SGD, whose one step a round the server optimizer turns into FedSGD + FedAdam
  // (docs/wire.md "Round optimizer").
  LocalOptimizer optimizer = LocalOptimizer::kAdam;
};

// One chosen participant and its instructions.
struct PeerPlan {
  std::string address;  // "host:port" the request goes to
  std::string id;       // the peer's node id ("" if not known yet)
  RoundConfig config;
};

// A live peer the strategy may choose.
struct RoundCandidate {
  std::string address;
  std::string id;
};

// A participant's answer: its locally trained parameters and how many samples produced them.
struct RoundResult {
  std::string peer;            // id (or address) of the participant
  std::vector<float> params;
  std::uint64_t samples = 0;   // size of the participant's local training set
};

// A participant that failed the round: timeout, error reply, refused model, died.
struct RoundFailure {
  std::string peer;
  Status why;
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  // Chooses the participants of `round` among `live` (a fresh choice each call) and their
  // instructions. May return fewer than the driver needs; the driver then retries later.
  virtual std::vector<PeerPlan> ConfigureRound(std::uint64_t round, const std::vector<RoundCandidate>& live) = 0;
  // The new global model from the successful replies, or nullopt to keep `global` (e.g. no
  // replies). `failed` is informational. REQUIRES: every result in `ok` has global.size()
  // finite parameters (the driver validates replies before they get here).
  virtual std::optional<std::vector<float>> Aggregate(std::uint64_t round, const std::vector<float>& global,
                                                      const std::vector<RoundResult>& ok,
                                                      const std::vector<RoundFailure>& failed) = 0;
  // One line with the name and the settings, for logs and the status socket.
  virtual std::string Summary() const = 0;
  // The server optimizer's state after the last Aggregate, saved by the coordinator with the
  // global model; and continuing from such a state after a restart (InvalidArgument, and no
  // change, when it does not fit: server_optimizer.h ServerOptimizer::Restore).
  virtual ServerOptimizerState ServerState() const = 0;
  virtual Status RestoreServerState(ServerOptimizerState state, std::size_t parameters) = 0;
};

}  // namespace gl::gossip

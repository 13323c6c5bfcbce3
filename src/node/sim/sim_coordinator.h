// SimCoordinator: the round coordinator of `gossip-learner simulate --mode rounds`: the node's
// own Coordinator (strategy and RoundDriver, with the [coordinator] settings it is given) and a
// gossip Engine over the simulation's in-memory network. It holds the global model (what it
// publishes after each round) and trains nothing itself.
// Threading: the simulation's thread only.
#pragma once

#include <asio.hpp>
#include <memory>
#include <string>
#include <vector>

#include "gossip/engine.h"
#include "gossip/rounds/round_worker.h"
#include "gossip/wire/in_memory_transport.h"
#include "node/config.h"
#include "node/coordinator.h"

namespace gl::node::sim {

class SimCoordinator : public gossip::ModelStore, public gossip::RoundWorker {
 public:
  // Starts at `address` with `global` as the first global model; `nodes` are its static peers.
  // The rounds follow `settings`' [coordinator] keys (fraction, local_epochs, client_lr, strategy,
  // server optimizer...); nothing else of it is read, and nothing is resumed from disk.
  static Result<std::unique_ptr<SimCoordinator>> Start(asio::io_context& io, gossip::InMemoryNetwork& network,
                                                       const std::string& address, const Config& settings,
                                                       gossip::Options options,
                                                       std::string signature, std::vector<float> global,
                                                       const std::vector<std::string>& nodes);
  ~SimCoordinator() override;

  // gossip::ModelStore: the global model; nothing received is merged.
  gossip::ModelSnapshot Snapshot() override { return gossip::ModelSnapshot{signature_, global_, 0, 0}; }
  void Offer(gossip::ReceivedModel) override {}
  // gossip::RoundWorker: a coordinator that does not train only keeps what it published.
  void Train(std::uint64_t, std::vector<float>, const gossip::RoundConfig&, TrainDone done) override;
  void SetFederated(bool, const std::vector<float>&) override {}
  void PublishGlobal(std::uint64_t round, const std::vector<float>& global, gossip::ServerOptimizerState) override;

  std::uint64_t rounds() const { return rounds_; }

 private:
  SimCoordinator(std::string signature, std::vector<float> global)
      : signature_(std::move(signature)), global_(std::move(global)) {}

  std::string signature_;
  std::vector<float> global_;
  std::uint64_t rounds_ = 0;
  std::unique_ptr<gossip::Transport> transport_;
  std::unique_ptr<gossip::Engine> engine_;
  std::unique_ptr<Coordinator> coordinator_;
};

}  // namespace gl::node::sim

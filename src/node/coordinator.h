// Coordinator: what `role = coordinator` adds to a node. It builds the configured Strategy
// (fedavg | fednova | trimmed-mean) and the RoundDriver, resumes from the last completed round in the
// state dir (with the server optimizer's state saved after it, server_optimizer_file.h), keeps the node's own gossip initiation paused, and refuses RoundRequests from
// any other coordinator, logging the conflict loudly (nodes follow the smallest id).
//
// Threading: io thread only (Stats() too). Ownership: `io`, `engine`, `transport` and
// `worker` must outlive it; Stop() it before the engine. The worker is the node's
// NodeRoundWorker; any gossip::RoundWorker will do.
#pragma once

#include <asio.hpp>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "gossip/engine.h"
#include "gossip/rounds/fedavg.h"
#include "gossip/rounds/round_driver.h"
#include "gossip/rounds/round_worker.h"
#include "gossip/rounds/strategy.h"
#include "node/config.h"

namespace gl::node {

class Coordinator {
 public:
  // `node_id`/`listen` are the node's; `global` the model to start from (the checkpoint).
  static Result<std::unique_ptr<Coordinator>> Create(asio::io_context& io, const Config& config,
                                                     const std::string& node_id, const std::string& listen,
                                                     const std::string& signature, std::vector<float> global,
                                                     gossip::Engine& engine, gossip::Transport& transport,
                                                     gossip::RoundWorker& worker);
  void Start();
  void Stop();  // idempotent
  // Another node announced itself as coordinator (mDNS TXT role): logged loudly once.
  void NoteOtherCoordinator(const std::string& id, const std::string& address);
  gossip::RoundStats Stats() const { return driver_->Stats(); }

 private:
  Coordinator(std::string node_id, gossip::Engine& engine, std::unique_ptr<gossip::Strategy> strategy);

  std::string node_id_;
  gossip::Engine& engine_;
  std::unique_ptr<gossip::Strategy> strategy_;
  std::unique_ptr<gossip::RoundDriver> driver_;
  static constexpr std::size_t kMaxOtherCoordinatorsLogged = 64;
  std::set<std::string> others_logged_;
};

// The strategy chosen, with `options`; InvalidArgument when the options are out of range.
Result<std::unique_ptr<gossip::Strategy>> MakeStrategy(StrategyChoice choice, const gossip::FedAvgOptions& options);

}  // namespace gl::node

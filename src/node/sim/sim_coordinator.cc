#include "node/sim/sim_coordinator.h"

namespace gl::node::sim {

Result<std::unique_ptr<SimCoordinator>> SimCoordinator::Start(asio::io_context& io, gossip::InMemoryNetwork& network,
                                                              const std::string& address, const Config& settings,
                                                              gossip::Options options,
                                                              std::string signature, std::vector<float> global,
                                                              const std::vector<std::string>& nodes) {
  std::unique_ptr<SimCoordinator> c(new SimCoordinator(std::move(signature), std::move(global)));
  c->transport_ = network.NewTransport(address);
  options.node_id = "coordinator";
  options.role = "coordinator";
  c->engine_ = std::make_unique<gossip::Engine>(io, options, *c->transport_, *c);
  if (Status s = c->engine_->Start(); !s.ok()) return s;
  for (const std::string& node : nodes) c->engine_->AddPeer(node, "static");
  Config config = settings;
  config.fresh = true;  // a simulated coordinator has no state_dir to resume from
  Result<std::unique_ptr<Coordinator>> coordinator = Coordinator::Create(
      io, config, options.node_id, address, c->signature_, c->global_, *c->engine_, *c->transport_, *c);
  if (!coordinator.ok()) return coordinator.status();
  c->coordinator_ = std::move(coordinator).value();
  c->coordinator_->Start();
  return c;
}

SimCoordinator::~SimCoordinator() {
  if (coordinator_) coordinator_->Stop();  // before the engine whose transport it sends on
}

void SimCoordinator::Train(std::uint64_t, std::vector<float>, const gossip::RoundConfig&, TrainDone done) {
  done(Status::Unavailable("the simulated coordinator does not train"));
}

void SimCoordinator::PublishGlobal(std::uint64_t round, const std::vector<float>& global,
                                   gossip::ServerOptimizerState) {
  rounds_ = round;
  global_ = global;
}

}  // namespace gl::node::sim

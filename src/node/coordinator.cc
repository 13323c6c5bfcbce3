#include "node/coordinator.h"

#include <cmath>
#include <iomanip>
#include <numeric>
#include <utility>

#include "common/log.h"
#include "gossip/wire/codec.h"
#include "gossip/rounds/fednova.h"
#include "gossip/wire/round_messages.h"
#include "gossip/rounds/trimmed_mean.h"
#include "node/round_state.h"
#include "node/server_optimizer_file.h"

namespace gl::node {
namespace {
constexpr const char* kLog = "round";

// The server optimizer continues from its state saved after `last_round`, or starts at zero;
// one log line says which (with the L2 norm of v or m, to compare with the saved file).
void ResumeServerOptimizerAndLog(const std::string& state_dir, std::uint64_t last_round, std::size_t parameters,
                                 gossip::Strategy& strategy) {
  if (Status s = ResumeServerOptimizer(state_dir, last_round, parameters, strategy); !s.ok()) {
    GL_LOG(kWarn, kLog) << "server optimizer starts at zero: " << s.ToString();
    return;
  }
  const gossip::ServerOptimizerState state = strategy.ServerState();
  const double norm = std::sqrt(std::inner_product(state.first.begin(), state.first.end(), state.first.begin(), 0.0));
  GL_LOG(kInfo, kLog) << "server optimizer state of round " << last_round << " resumed (" << state.kind
                      << ", L2 norm of v/m " << std::setprecision(9) << norm << ")";
}

}  // namespace

Result<std::unique_ptr<gossip::Strategy>> MakeStrategy(const std::string& name, const gossip::FedAvgOptions& options) {
  if (Status valid = options.Validate(); !valid.ok()) return valid;
  if (name == "fedavg") return std::unique_ptr<gossip::Strategy>(std::make_unique<gossip::FedAvg>(options));
  if (name == "fednova") return std::unique_ptr<gossip::Strategy>(std::make_unique<gossip::FedNova>(options));
  if (name == "trimmed-mean") return std::unique_ptr<gossip::Strategy>(std::make_unique<gossip::TrimmedMean>(options));
  return Status::InvalidArgument("strategy must be fedavg, fednova or trimmed-mean, got '" + name + "'");
}

Result<std::unique_ptr<Coordinator>> Coordinator::Create(asio::io_context& io, const Config& config,
                                                         const std::string& node_id, const std::string& listen,
                                                         const std::string& signature, std::vector<float> global,
                                                         gossip::Engine& engine, gossip::Transport& transport,
                                                         gossip::RoundWorker& worker) {
  gossip::FedAvgOptions fedavg;
  fedavg.fraction = config.fraction;
  fedavg.min_nodes = static_cast<std::uint32_t>(config.min_nodes);
  fedavg.config = gossip::RoundConfig{static_cast<std::uint32_t>(config.local_epochs),
                                      static_cast<std::uint32_t>(config.batch_size),
                                      static_cast<float>(config.client_lr)};
  fedavg.seed = config.seed;
  fedavg.server = gossip::ServerOptimizerOptions{config.server_optimizer, config.server_lr, config.server_momentum,
                                                 config.server_tau};
  fedavg.lr_decay = config.lr_decay;
  Result<std::unique_ptr<gossip::Strategy>> strategy = MakeStrategy(config.strategy, fedavg);
  if (!strategy.ok()) return strategy.status();
  Result<std::uint64_t> last_round = config.fresh ? Result<std::uint64_t>(std::uint64_t{0})
                                                  : LoadLastRound(config.state_dir);
  if (!last_round.ok()) return last_round.status();
  if (*last_round > 0) ResumeServerOptimizerAndLog(config.state_dir, *last_round, global.size(), **strategy);

  gossip::RoundDriverOptions options;
  options.node_id = node_id;
  options.listen_address = listen;
  options.signature = signature;
  options.min_nodes = fedavg.min_nodes;
  options.round_deadline = Ms(config.round_deadline_s);
  options.coordinator_trains = config.coordinator_trains;
  options.max_update_norm = config.max_update_norm;
  std::unique_ptr<Coordinator> coordinator(new Coordinator(node_id, engine, std::move(strategy).value()));
  coordinator->driver_ = std::make_unique<gossip::RoundDriver>(io, options, engine, transport, *coordinator->strategy_,
                                                               worker, std::move(global), *last_round);
  return coordinator;
}

Coordinator::Coordinator(std::string node_id, gossip::Engine& engine, std::unique_ptr<gossip::Strategy> strategy)
    : node_id_(std::move(node_id)), engine_(engine), strategy_(std::move(strategy)) {}

void Coordinator::Start() {
  engine_.SetGossipPaused(true);
  engine_.SetRoundHandler([this](const std::string& from, gossip::Frame request, gossip::Transport::Respond respond) {
    Result<gossip::RoundRequest> decoded = gossip::DecodeMessage<gossip::RoundRequest>(request);
    if (decoded.ok()) NoteOtherCoordinator(decoded->coordinator_id, decoded->coordinator_address);
    respond(gossip::EncodeMessage(gossip::Error{node_id_ + " is a coordinator and serves no rounds (request from " +
                                                from + ")"}));
  });
  driver_->Start();
}

void Coordinator::Stop() { driver_->Stop(); }

void Coordinator::NoteOtherCoordinator(const std::string& id, const std::string& address) {
  // Ids come from unverified requests too: a bounded set, so a flood of made-up ids cannot grow it.
  if (id == node_id_ || others_logged_.size() >= kMaxOtherCoordinatorsLogged || !others_logged_.insert(id).second) {
    return;
  }
  GL_LOG(kError, kLog) << "SECOND COORDINATOR in the cluster: " << id << " at " << address << " besides this one ("
                       << node_id_ << "); nodes follow the smallest id ("
                       << (id < node_id_ ? id : node_id_) << "). Run one coordinator per cluster.";
}

}  // namespace gl::node

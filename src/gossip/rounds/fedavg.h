// FedAvg (McMahan et al. 2017): each round a fresh random sample of max(min_nodes,
// ceil(fraction x live)) live peers trains from the global model; the new global model is
// the mean of their parameters weighted by their sample counts (equal weights if every
// count is 0). The step from the global model to that mean goes through a ServerOptimizer
// (default: all the way, plain FedAvg; or FedAvgM, FedAdam: server_optimizer.h).
// The participants' learning rate decays by lr_decay per round: round r (1-based) asks for
// learning_rate x lr_decay^(r-1), as in the FedAvg paper's experiments.
// No I/O; not thread-safe (see strategy.h).
#pragma once

#include <cstdint>
#include <random>
#include <utility>

#include "gossip/rounds/server_optimizer.h"
#include "gossip/rounds/strategy.h"

namespace gl::gossip {

struct FedAvgOptions {
  // Share of the live peers asked to train each round, in (0, 1]. Default 1 (all of them).
  double fraction = 1.0;
  // Fewest participants a round is started with (and must hear back from). Default 2.
  std::uint32_t min_nodes = 2;
  // What every participant is asked to do.
  RoundConfig config;
  // Seed of the participant sampling.
  std::uint64_t seed = 1;
  // How the global model follows the weighted mean. Default: sgd lr 1 momentum 0, plain FedAvg.
  ServerOptimizerOptions server;
  // Per-round decay of the participants' learning rate, in (0, 1]. Default 1 (constant).
  double lr_decay = 1.0;

  // OK, or InvalidArgument naming the field and its valid range.
  Status Validate() const;
};

class FedAvg : public Strategy {
 public:
  explicit FedAvg(FedAvgOptions options);

  std::vector<PeerPlan> ConfigureRound(std::uint64_t round, const std::vector<RoundCandidate>& live) override;
  // Combine() of the replies, then the server optimizer's step toward it.
  std::optional<std::vector<float>> Aggregate(std::uint64_t round, const std::vector<float>& global,
                                              const std::vector<RoundResult>& ok,
                                              const std::vector<RoundFailure>& failed) final;
  std::string Summary() const override;
  ServerOptimizerState ServerState() const final { return server_.State(); }
  Status RestoreServerState(ServerOptimizerState state, std::size_t parameters) final {
    return server_.Restore(std::move(state), parameters);
  }

  // What every participant of `round` (1-based) is asked to do.
  RoundConfig ConfigFor(std::uint64_t round) const;

 protected:
  // The point the global model steps toward, from the round's replies (never empty). Here the
  // mean weighted by sample count.
  virtual std::vector<double> Combine(std::uint64_t round, const std::vector<float>& global,
                                      const std::vector<RoundResult>& ok);

  // "fraction 1 min_nodes 2 epochs 1 batch 32 lr 0.003", shared by the strategies built on this one.
  std::string SettingsText() const;

 private:
  FedAvgOptions options_;
  std::mt19937_64 rng_;
  ServerOptimizer server_;
};

}  // namespace gl::gossip

// FedNova (Wang et al. 2020, "Tackling the Objective Inconsistency Problem in Heterogeneous
// Federated Optimization"). With E local epochs of minibatch size B, a participant holding
// n_k samples takes tau_k = E x ceil(n_k / B) local steps, so on shards of unequal size
// FedAvg's mean leans toward the largest shards' local optima. FedNova averages the updates
// per local step instead and rescales by the mean step count:
//   aggregate = global + tau_eff x sum_k p_k (x_k - global) / tau_k,
//   p_k = n_k / sum n,  tau_eff = sum_k p_k tau_k.
// Equal step counts give FedAvg's mean. Replies with 0 samples get weight 0 (all 0: FedAvg's
// equal-weight mean). Participants are chosen, and the server optimizer applied, as in
// FedAvg. No I/O; not thread-safe (see strategy.h).
#pragma once

#include "gossip/rounds/fedavg.h"

namespace gl::gossip {

class FedNova : public FedAvg {
 public:
  using FedAvg::FedAvg;

  std::string Summary() const override;

  // Local steps of a participant with `samples` training samples under `config`.
  static double LocalSteps(std::uint64_t samples, const RoundConfig& config);

 protected:
  std::vector<double> Combine(std::uint64_t round, const std::vector<float>& global,
                              const std::vector<RoundResult>& ok) override;
};

}  // namespace gl::gossip

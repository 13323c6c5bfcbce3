// ServerOptimizer: how the coordinator moves the global model x toward the participants'
// aggregate a (Reddi et al. 2021, "Adaptive Federated Optimization"). The round's
// pseudo-gradient is d = a - x; then
//   sgd:  v = momentum x v + d;                       x += lr x v
//         (lr 1, momentum 0: plain FedAvg, x = a; momentum > 0: FedAvgM, Hsu et al. 2019)
//   adam: m = b1 x m + (1 - b1) x d;  s = b2 x s + (1 - b2) x d^2;
//         x += lr x m / (sqrt(s) + tau)               (FedAdam, b1 0.9, b2 0.99, no bias correction)
// State (v, m, s) lives in the coordinator's memory only: it restarts at zero after a restart.
// No I/O; not thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace gl::gossip {

struct ServerOptimizerOptions {
  std::string kind = "sgd";  // sgd | adam
  double lr = 1.0;           // server learning rate, > 0; 1 with sgd = step all the way to a
  double momentum = 0.0;     // sgd only, in [0, 1)
  double tau = 1e-3;         // adam only, > 0: adaptivity floor (step <= lr x |m| / tau)

  // OK, or InvalidArgument naming the field and its valid range.
  Status Validate() const;
};

class ServerOptimizer {
 public:
  static constexpr double kBeta1 = 0.9, kBeta2 = 0.99;

  explicit ServerOptimizer(ServerOptimizerOptions options) : options_(std::move(options)) {}

  // The new global model from `global` and the round's `aggregate` (same size).
  std::vector<float> Step(const std::vector<float>& global, const std::vector<double>& aggregate);
  // "server sgd lr 1 momentum 0" or "server adam lr 0.01 tau 0.001".
  std::string Summary() const;

 private:
  ServerOptimizerOptions options_;
  std::vector<double> first_;   // sgd: velocity v; adam: m
  std::vector<double> second_;  // adam: s
};

}  // namespace gl::gossip

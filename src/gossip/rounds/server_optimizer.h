// ServerOptimizer: how the coordinator moves the global model x toward the participants'
// aggregate a (Reddi et al. 2021, "Adaptive Federated Optimization"). The round's
// pseudo-gradient is d = a - x; then
//   sgd:  v = momentum x v + d;                       x += lr x v
//         (lr 1, momentum 0: plain FedAvg, x = a; momentum > 0: FedAvgM, Hsu et al. 2019)
//   adam: m = b1 x m + (1 - b1) x d;  s = b2 x s + (1 - b2) x d^2;
//         x += lr x m / (sqrt(s) + tau)               (FedAdam, b1 0.9, b2 0.99, no bias correction)
// The state (v, or m and s) starts at zero; State() and Restore() let the coordinator save
// it with each global model and continue from it after a restart (node/server_optimizer_file.h).
// No I/O; not thread-safe.
#pragma once

#include <cstddef>
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

// The moments an optimizer carries from round to round.
struct ServerOptimizerState {
  std::string kind;            // ServerOptimizerOptions::kind of the optimizer it came from
  std::vector<double> first;   // sgd: velocity v; adam: m (empty before the first step)
  std::vector<double> second;  // adam: s; empty with sgd
};

class ServerOptimizer {
 public:
  static constexpr double kBeta1 = 0.9, kBeta2 = 0.99;

  explicit ServerOptimizer(ServerOptimizerOptions options) : options_(std::move(options)) {}

  // The new global model from `global` and the round's `aggregate` (same size).
  std::vector<float> Step(const std::vector<float>& global, const std::vector<double>& aggregate);
  // "server sgd lr 1 momentum 0" or "server adam lr 0.01 tau 0.001".
  std::string Summary() const;

  ServerOptimizerState State() const;
  // Continues from `state`, saved from an optimizer of the same kind for a model of `parameters`
  // values. InvalidArgument (and no change) when it was another kind or another model size.
  Status Restore(ServerOptimizerState state, std::size_t parameters);

 private:
  ServerOptimizerOptions options_;
  std::vector<double> first_;   // sgd: velocity v; adam: m
  std::vector<double> second_;  // adam: s
};

}  // namespace gl::gossip

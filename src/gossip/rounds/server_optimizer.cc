#include "gossip/rounds/server_optimizer.h"

#include <cmath>
#include <sstream>
#include <utility>

namespace gl::gossip {

Status ServerOptimizerOptions::Validate() const {
  if (kind != "sgd" && kind != "adam") {
    return Status::InvalidArgument("server optimizer must be sgd or adam, got '" + kind + "'");
  }
  if (!(lr > 0.0 && lr <= 10.0)) return Status::InvalidArgument("server lr must be in (0, 10]");
  if (!(momentum >= 0.0 && momentum < 1.0)) return Status::InvalidArgument("server momentum must be in [0, 1)");
  if (!(tau > 0.0)) return Status::InvalidArgument("server tau must be > 0");
  return Status::Ok();
}

std::vector<float> ServerOptimizer::Step(const std::vector<float>& global, const std::vector<double>& aggregate) {
  first_.resize(global.size(), 0.0);
  const bool adam = options_.kind == "adam";
  if (adam) second_.resize(global.size(), 0.0);
  std::vector<float> next(global.size());
  for (std::size_t i = 0; i < global.size(); ++i) {
    const double d = aggregate[i] - global[i];
    double step;
    if (adam) {
      first_[i] = kBeta1 * first_[i] + (1 - kBeta1) * d;
      second_[i] = kBeta2 * second_[i] + (1 - kBeta2) * d * d;
      step = first_[i] / (std::sqrt(second_[i]) + options_.tau);
    } else {
      first_[i] = options_.momentum * first_[i] + d;
      step = first_[i];
    }
    next[i] = static_cast<float>(global[i] + options_.lr * step);
  }
  return next;
}

std::string ServerOptimizer::Summary() const {
  std::ostringstream out;
  out << "server " << options_.kind << " lr " << options_.lr;
  if (options_.kind == "adam") {
    out << " tau " << options_.tau;
  } else {
    out << " momentum " << options_.momentum;
  }
  return out.str();
}

ServerOptimizerState ServerOptimizer::State() const { return ServerOptimizerState{options_.kind, first_, second_}; }

Status ServerOptimizer::Restore(ServerOptimizerState state, std::size_t parameters) {
  if (state.kind != options_.kind) {
    return Status::InvalidArgument("saved server optimizer state is " + state.kind + ", the optimizer is " +
                                   options_.kind);
  }
  const std::size_t second_size = options_.kind == "adam" ? parameters : 0;
  if (state.first.size() != parameters || state.second.size() != second_size) {
    return Status::InvalidArgument("saved server optimizer state does not fit a model of " + std::to_string(parameters) +
                                   " parameters (it holds " + std::to_string(state.first.size()) + " + " +
                                   std::to_string(state.second.size()) + " values, expected " +
                                   std::to_string(parameters) + " + " + std::to_string(second_size) + ")");
  }
  first_ = std::move(state.first);
  second_ = std::move(state.second);
  return Status::Ok();
}

}  // namespace gl::gossip

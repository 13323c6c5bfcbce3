#include "gossip/server_optimizer.h"

#include <cmath>
#include <sstream>

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

}  // namespace gl::gossip

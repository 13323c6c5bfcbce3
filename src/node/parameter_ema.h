// ParameterEma: an exponential moving average of a parameter vector (Polyak averaging).
// Not thread-safe; the training thread owns it.
#pragma once

#include <cstddef>
#include <vector>

namespace gl::node {

class ParameterEma {
 public:
  // Averages over about `window` updates (decay 1 - 1/window); 0 disables it (empty()).
  explicit ParameterEma(std::size_t window) : window_(window) {}

  // The first vector is taken as is; a vector of another size restarts the average.
  void Add(const std::vector<float>& params) {
    if (window_ == 0) return;
    if (average_.size() != params.size()) {
      average_ = params;
      return;
    }
    const float rate = 1.0f / static_cast<float>(window_);
    for (std::size_t i = 0; i < params.size(); ++i) average_[i] += rate * (params[i] - average_[i]);
  }
  bool empty() const { return average_.empty(); }
  const std::vector<float>& value() const { return average_; }

 private:
  std::size_t window_;
  std::vector<float> average_;
};

}  // namespace gl::node

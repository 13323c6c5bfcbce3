// LearningRateSchedule: the learning rate of free (gossip) training as a function of the
// node's local epoch count. It halves every `half_life_epochs` local epochs down to `minimum`,
// so that a long-running node settles: the steps that pull a model toward its own shard
// between merges shrink, and the cluster's models meet near the optimum of all the data
// instead of circling it (decentralized SGD converges with a decaying step size).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace gl::node {

struct LearningRateSchedule {
  float initial = 3e-3f;
  double half_life_epochs = 0;  // 0 = constant `initial`
  float minimum = 0;

  float At(std::uint64_t epoch) const {
    if (half_life_epochs <= 0) return initial;
    const double rate = initial * std::exp2(-static_cast<double>(epoch) / half_life_epochs);
    return static_cast<float>(std::max<double>(minimum, rate));
  }
};

}  // namespace gl::node

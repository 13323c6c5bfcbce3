// IntervalStretch: how many times gossip_interval a node waits between the exchanges it
// starts, as its learning rate decays. Once the rate has halved `start_halvings` times, each
// further halving doubles the interval, up to `max` times (a floor on the rate stops it too).
//
// Why: a model's drift between two merges is the optimizer's steps over that time, and
// Adam's steps scale with the learning rate. Once the rate has decayed, the models change
// little between merges, and exchanging at the early rate sends the same bytes for less and
// less; stretching in step keeps the drift per merge about the same. The first halvings keep
// the full rate: the cluster's accuracy is made there. Off by default: the fewer merges cost
// the settled cluster some accuracy on skewed shards. Figures: bench/RESULTS.md "Exchanging
// less as the learning rate decays".
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "node/learning_rate.h"

namespace gl::node {

struct IntervalStretch {
  double start_halvings = 3;  // >= 0
  double max = 1;             // >= 1; 1 = a fixed interval (the node's default)

  // The factor for a local epoch trained at learning rate `schedule.At(epoch)`.
  double At(const LearningRateSchedule& schedule, std::uint64_t epoch) const {
    const double rate = schedule.At(epoch);
    if (!(rate > 0) || !(schedule.initial > 0)) return 1;
    const double halvings = std::log2(schedule.initial / rate);
    return std::clamp(std::exp2(halvings - start_halvings), 1.0, std::max(1.0, max));
  }
};

// Whether `epochs_without_merge` local epochs in a row without a merge mean the node has lost
// its peers, so that its estimate of their consensus (the average of their models) is stale:
// at `stretch` an exchange is due only every `stretch` intervals, so one quiet epoch is not.
inline bool ConsensusEstimateStale(std::uint64_t epochs_without_merge, double stretch) {
  return static_cast<double>(epochs_without_merge) >= std::ceil(std::max(1.0, stretch));
}

}  // namespace gl::node

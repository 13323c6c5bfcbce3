#include "node/sim/sim_merge.h"

#include <utility>

#include "gossip/merge/merge.h"

namespace gl::node::sim {

std::size_t MergeReceived(MergeState& state, gossip::ModelSnapshot& local, std::vector<gossip::ReceivedModel>& offers,
                          std::uint64_t samples_trained, std::vector<std::vector<float>>& merged_models) {
  const std::uint64_t age_before = local.age;
  const std::size_t merged = state.policy.Merge(std::move(offers), local, &merged_models);
  offers.clear();
  if (merged == 0) return 0;
  local.age = gossip::BoundedMergedAge(age_before, local.age, samples_trained - state.samples_at_last_merge);
  state.samples_at_last_merge = samples_trained;
  return merged;
}

}  // namespace gl::node::sim

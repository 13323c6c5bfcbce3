// MergeReceived: what the node's training loop does, between two minibatches, with the
// models its gossip engine received (node/training_loop.cc MergeOffers): the same
// gossip::MergePolicy screens, bounds and merges them, and the age a merge adds is bounded.
// The one place where a simulated node merges, so it follows the node's merge code.
// Not thread-safe; one MergeState per simulated node.
#pragma once

#include <cstdint>
#include <vector>

#include "gossip/merge/merge_policy.h"
#include "gossip/model_snapshot.h"

namespace gl::node::sim {

struct MergeState {
  explicit MergeState(const gossip::MergePolicyOptions& options) : policy(options) {}
  gossip::MergePolicy policy;
  std::uint64_t samples_at_last_merge = 0;
};

// Merges `offers` into `local` (params and age); `samples_trained` is the node's own training
// so far. Returns how many were merged (the others were refused or too far to merge even clipped),
// and appends a copy of each merged model to `merged_models` (MergePolicy::Merge).
std::size_t MergeReceived(MergeState& state, gossip::ModelSnapshot& local, std::vector<gossip::ReceivedModel>& offers,
                          std::uint64_t samples_trained, std::vector<std::vector<float>>& merged_models);

}  // namespace gl::node::sim

// MergeReceived: what the node's training loop does, between two minibatches, with the
// models its gossip engine received (node/training_loop.cc MergeOffers): each is clipped
// (gossip/merge/update_clip.h) and merged by the merge rule, and the age a merge adds is
// bounded. The one place where a simulated node merges, so it follows the node's merge code.
// Not thread-safe; one MergeState per simulated node.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "gossip/merge/merge.h"
#include "gossip/merge/update_clip.h"
#include "gossip/model_snapshot.h"

namespace gl::node::sim {

struct MergeSettings {
  gossip::MergeRule rule = gossip::MergeRule::kAgeWeighted;
  double clip_factor = 1;        // the node's defaults (config/node.toml); 0 = no clipping
  std::size_t clip_window = 8;
  double clip_drop_factor = 2;
  double clip_radial_share = 0.05;
};

struct MergeState {
  explicit MergeState(const MergeSettings& settings);
  gossip::MergeRule rule;
  std::optional<gossip::UpdateClip> clip;
  std::uint64_t samples_at_last_merge = 0;
};

// Merges `offers` into `local` (params and age); `samples_trained` is the node's own training
// so far. Returns how many were merged (the others were too far to merge even clipped).
std::size_t MergeReceived(MergeState& state, gossip::ModelSnapshot& local, std::vector<gossip::ReceivedModel>& offers,
                          std::uint64_t samples_trained);

}  // namespace gl::node::sim

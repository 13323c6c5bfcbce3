#include "node/sim/sim_merge.h"

namespace gl::node::sim {

MergeState::MergeState(const MergeSettings& settings) : rule(settings.rule) {
  if (settings.clip_factor > 0) {
    clip.emplace(settings.clip_window, settings.clip_factor, settings.clip_drop_factor, settings.clip_radial_share);
  }
}

std::size_t MergeReceived(MergeState& state, gossip::ModelSnapshot& local, std::vector<gossip::ReceivedModel>& offers,
                          std::uint64_t samples_trained) {
  const std::uint64_t age_before = local.age;
  std::size_t merged = 0;
  for (gossip::ReceivedModel& remote : offers) {
    if (state.clip) {
      double radius = 0, distance = 0;
      if (state.clip->Apply(remote.sender, remote.model.params, local.params, &radius, &distance) ==
          gossip::UpdateClip::Outcome::kDropped) {
        continue;
      }
    }
    gossip::MergeInto(local, remote.model, state.rule);
    ++merged;
  }
  if (merged == 0) return 0;
  local.age = gossip::BoundedMergedAge(age_before, local.age, samples_trained - state.samples_at_last_merge);
  state.samples_at_last_merge = samples_trained;
  return merged;
}

}  // namespace gl::node::sim

#include "gossip/merge/merge_policy.h"

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "gossip/merge/peer_key.h"

namespace gl::gossip {
namespace {
constexpr const char* kLog = "merge";

Status Invalid(const std::string& field, const std::string& range) {
  return Status::InvalidArgument("merge policy: " + field + " must be " + range);
}
}  // namespace

Status MergePolicyOptions::Validate() const {
  if (!(max_update_norm >= 0)) return Invalid("max_update_norm", ">= 0 (0 = no bound)");
  if (!(update_to_model_norm >= 0)) return Invalid("update_to_model_norm", ">= 0 (0 = max_update_norm alone)");
  if (!(clip_factor >= 0)) return Invalid("clip_factor", ">= 0 (0 = no bounds)");
  if (clip_window < 1) return Invalid("clip_window", ">= 1");
  if (!(clip_drop_factor == 0 || clip_drop_factor >= 1)) return Invalid("clip_drop_factor", "0 (never drop) or >= 1");
  if (!(clip_radial_share >= 0)) return Invalid("clip_radial_share", ">= 0 (0 = no cap)");
  if (trimmed_mean_window < 1) return Invalid("trimmed_mean_window", ">= 1");
  return Status::Ok();
}

MergePolicyOptions MergePolicyOptions::ScreenOnly(double max_update_norm, double update_to_model_norm) {
  MergePolicyOptions screen;
  screen.max_update_norm = max_update_norm;
  screen.update_to_model_norm = update_to_model_norm;
  screen.clip_factor = 0;
  return screen;
}

MergePolicy::MergePolicy(MergePolicyOptions options) : options_(options) {
  if (options_.clip_factor > 0) clip_.emplace(options_.clip_window, options_.clip_factor, options_.clip_drop_factor);
  if (options_.rule == MergeRule::kTrimmedMean) window_.emplace(options_.trimmed_mean_window);
}

Status MergePolicy::Screen(const std::string& sender, const ModelSnapshot& remote, const std::string& signature,
                           const std::vector<float>& reference, double* distance) {
  ++stats_.received;
  Status verdict = ValidateRemote(remote, signature, reference.size());
  std::uint64_t* reason = nullptr;
  double norm = 0;
  if (!verdict.ok()) {
    const bool same_shape = remote.signature == signature && remote.params.size() == reference.size();
    reason = same_shape ? &stats_.refused_not_finite : &stats_.refused_incompatible;
  } else {
    norm = UpdateNorm(remote.params, reference);
    const double bound = options_.max_update_norm;
    if (bound > 0 && norm > bound) {
      const double model_norm = options_.update_to_model_norm > 0 ? ParameterNorm(reference) : 0;
      if (norm > options_.update_to_model_norm * model_norm) {
        verdict = Status::Rejected("update norm " + std::to_string(norm) + " exceeds max_update_norm " +
                                   std::to_string(bound) + " and " + std::to_string(options_.update_to_model_norm) +
                                   " x the local model's norm " + std::to_string(model_norm));
        reason = &stats_.refused_too_far;
      }
    }
  }
  if (reason != nullptr) {
    ++*reason;
    CountPerPeer(stats_.refused_by_peer, sender);
    return verdict;
  }
  stats_.update_norm_max = std::max(stats_.update_norm_max, norm);
  if (distance != nullptr) *distance = norm;
  return verdict;
}

std::size_t MergePolicy::Merge(std::vector<ReceivedModel> offers, ModelSnapshot& local,
                                std::vector<std::vector<float>>* merged_models) {
  std::size_t merged = 0;
  for (ReceivedModel& offer : offers) {
    double distance = 0;
    if (Status screened = Screen(offer.sender, offer.model, local.signature, local.params, &distance);
        !screened.ok()) {
      GL_LOG(kWarn, kLog) << "model from " << offer.sender << " not merged: " << screened.message();
      continue;
    }
    if (!Bound(offer.sender, offer.model.params, local.params, distance)) continue;
    ++merged;
    if (merged_models != nullptr) merged_models->push_back(offer.model.params);
    if (window_) {
      window_->Add(offer.sender, std::move(offer.model));
    } else {
      MergeInto(local, offer.model, options_.rule);
    }
  }
  if (window_ && merged > 0) window_->MergeInto(local);
  stats_.merged += merged;
  return merged;
}

bool MergePolicy::Bound(const std::string& sender, std::vector<float>& remote, const std::vector<float>& local,
                        double distance) {
  if (!clip_) return true;
  const double local_norm = ParameterNorm(local);
  const double radius = clip_->Observe(sender, distance, local_norm);
  stats_.clip_radius = radius;
  if (clip_->TooFar(distance, radius)) {
    ++stats_.dropped;
    GL_LOG(kWarn, kLog) << "model from " << sender << " not merged: " << distance / radius
                        << " x the clip radius away (distance " << distance << ", radius " << radius
                        << "; clip_drop_factor " << options_.clip_drop_factor << ")";
    return false;
  }
  const bool capped =
      options_.clip_radial_share > 0 && CapRadialPull(remote, local, local_norm, options_.clip_radial_share);
  const bool clipped = ClipToRadius(remote, local, capped ? UpdateNorm(remote, local) : distance, radius);
  stats_.capped += capped;
  stats_.clipped += capped || clipped;
  return true;
}

void MergePolicy::ForgetWindow() {
  if (window_) window_->Clear();
}

}  // namespace gl::gossip

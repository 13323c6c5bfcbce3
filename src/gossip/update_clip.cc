#include "gossip/update_clip.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gossip/merge.h"

namespace gl::gossip {

UpdateClip::UpdateClip(std::size_t window, double factor, double drop_factor, double radial_share)
    : window_(window), factor_(factor), drop_factor_(drop_factor), radial_share_(radial_share) {}

UpdateClip::Outcome UpdateClip::Apply(const std::string& sender, std::vector<float>& remote,
                                      const std::vector<float>& local, double* radius, double* distance) {
  *distance = UpdateNorm(remote, local);
  *radius = Observe(sender, *distance, ParameterNorm(local));
  if (TooFar(*distance, *radius)) return Outcome::kDropped;
  const bool capped = radial_share_ > 0 && CapRadialPull(remote, local, radial_share_);
  const bool clipped = ClipToRadius(remote, local, capped ? UpdateNorm(remote, local) : *distance, *radius);
  return capped || clipped ? Outcome::kClipped : Outcome::kAsSent;
}

double UpdateClip::Observe(const std::string& sender, double distance, double local_norm) {
  auto known = std::find_if(latest_.begin(), latest_.end(), [&](const auto& entry) { return entry.first == sender; });
  if (known != latest_.end()) latest_.erase(known);
  latest_.emplace_back(sender, distance);
  if (latest_.size() > window_) latest_.pop_front();
  std::vector<double> distances;
  for (const auto& [who, d] : latest_) distances.push_back(d);
  if (distances.size() < kPriorUntilSenders) distances.push_back(kPriorShareOfNorm * local_norm);
  // The lower median: with an even count, the smaller middle value.
  const auto middle = distances.begin() + (distances.size() - 1) / 2;
  std::nth_element(distances.begin(), middle, distances.end());
  return factor_ * *middle;
}

bool UpdateClip::TooFar(double distance, double radius) const {
  return drop_factor_ > 0 && distance > drop_factor_ * radius;
}

bool CapRadialPull(std::vector<float>& remote, const std::vector<float>& local, double max_share) {
  double norm_squared = 0, along = 0;  // along = (remote - local) . local
  for (std::size_t i = 0; i < local.size(); ++i) {
    norm_squared += static_cast<double>(local[i]) * local[i];
    along += (static_cast<double>(remote[i]) - local[i]) * local[i];
  }
  if (norm_squared == 0) return false;
  const double norm = std::sqrt(norm_squared);
  const double pull = along / norm, cap = max_share * norm;  // signed length along local/|local|
  if (std::abs(pull) <= cap) return false;
  const double excess = (pull > 0 ? pull - cap : pull + cap) / norm;
  for (std::size_t i = 0; i < remote.size(); ++i) remote[i] = static_cast<float>(remote[i] - excess * local[i]);
  return true;
}

bool ClipToRadius(std::vector<float>& remote, const std::vector<float>& local, double distance, double radius) {
  if (!(distance > radius)) return false;
  const double keep = radius / distance;
  for (std::size_t i = 0; i < remote.size(); ++i) {
    remote[i] = static_cast<float>(local[i] + keep * (static_cast<double>(remote[i]) - local[i]));
  }
  return true;
}

}  // namespace gl::gossip

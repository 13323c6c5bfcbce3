#include "gossip/merge/update_clip.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace gl::gossip {

ClipRadius::ClipRadius(std::size_t window, double factor, double drop_factor)
    : factor_(factor), drop_factor_(drop_factor), latest_(window) {}

double ClipRadius::Observe(const std::string& sender, double distance, double local_norm) {
  latest_.Put(sender, distance);
  std::vector<double> distances;
  for (const auto& [who, d] : latest_.entries()) distances.push_back(d);
  if (distances.size() < kPriorUntilSenders) distances.push_back(kPriorShareOfNorm * local_norm);
  // The lower median: with an even count, the smaller middle value.
  const auto middle = distances.begin() + (distances.size() - 1) / 2;
  std::nth_element(distances.begin(), middle, distances.end());
  return factor_ * *middle;
}

bool ClipRadius::TooFar(double distance, double radius) const {
  return drop_factor_ > 0 && distance > drop_factor_ * radius;
}

bool CapRadialPull(std::vector<float>& remote, const std::vector<float>& local, double local_norm, double max_share) {
  if (local_norm == 0) return false;
  double along = 0;  // (remote - local) . local
  for (std::size_t i = 0; i < local.size(); ++i) along += (static_cast<double>(remote[i]) - local[i]) * local[i];
  const double pull = along / local_norm, cap = max_share * local_norm;  // signed length along local/|local|
  if (std::abs(pull) <= cap) return false;
  const double excess = (pull > 0 ? pull - cap : pull + cap) / local_norm;
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

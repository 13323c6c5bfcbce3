#include "gossip/update_clip.h"

#include <algorithm>
#include <vector>

namespace gl::gossip {

ClipRadius::ClipRadius(std::size_t window, double factor, double drop_factor)
    : window_(window), factor_(factor), drop_factor_(drop_factor) {}

double ClipRadius::Observe(const std::string& sender, double distance, double local_norm) {
  auto known = std::find_if(latest_.begin(), latest_.end(), [&](const auto& entry) { return entry.first == sender; });
  if (known != latest_.end()) latest_.erase(known);
  latest_.emplace_back(sender, distance);
  if (latest_.size() > window_) latest_.pop_front();
  std::vector<double> distances;
  for (const auto& [who, d] : latest_) distances.push_back(d);
  if (distances.size() < kPriorUntilSenders) distances.push_back(local_norm);
  // The lower median: with an even count, the smaller middle value.
  const auto middle = distances.begin() + (distances.size() - 1) / 2;
  std::nth_element(distances.begin(), middle, distances.end());
  return factor_ * *middle;
}

bool ClipRadius::TooFar(double distance, double radius) const {
  return drop_factor_ > 0 && distance > drop_factor_ * radius;
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

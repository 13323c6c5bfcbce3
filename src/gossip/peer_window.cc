#include "gossip/peer_window.h"

#include <algorithm>
#include <vector>

#include "gossip/coordinate_trim.h"
#include "gossip/merge.h"

namespace gl::gossip {

PeerWindow::PeerWindow(std::size_t capacity) : capacity_(capacity) {}

void PeerWindow::Add(const std::string& sender, ModelSnapshot model) {
  auto known = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e.first == sender; });
  if (known != entries_.end()) entries_.erase(known);
  entries_.emplace_back(sender, std::move(model));
  if (entries_.size() > capacity_) entries_.pop_front();
}

void PeerWindow::MergeInto(ModelSnapshot& local) const {
  if (entries_.empty()) return;
  std::vector<const std::vector<float>*> models{&local.params};
  std::uint64_t age = local.age;
  for (const auto& [sender, model] : entries_) {
    models.push_back(&model.params);
    age = std::max(age, CappedRemoteAge(local.age, model.age));
  }
  local.params = CoordinateTrimmedMean(models, TrimCount(models.size(), kTrimShare));
  local.age = age;
}

}  // namespace gl::gossip

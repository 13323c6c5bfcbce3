#include "gossip/merge/peer_window.h"

#include <algorithm>
#include <vector>

#include "gossip/merge/coordinate_trim.h"
#include "gossip/merge/merge.h"

namespace gl::gossip {

PeerWindow::PeerWindow(std::size_t capacity) : latest_(capacity) {}

void PeerWindow::Add(const std::string& sender, ModelSnapshot model) {
  latest_.Put(sender, std::move(model));
}

void PeerWindow::MergeInto(ModelSnapshot& local) const {
  if (latest_.size() == 0) return;
  std::vector<const std::vector<float>*> models{&local.params};
  std::uint64_t age = local.age;
  for (const auto& [sender, model] : latest_.entries()) {
    models.push_back(&model.params);
    age = std::max(age, CappedRemoteAge(local.age, model.age));
  }
  local.params = CoordinateTrimmedMean(models, TrimCount(models.size(), kTrimShare));
  local.age = age;
}

}  // namespace gl::gossip

#include "node/shared_model.h"

#include <utility>

namespace gl::node {

SharedModel::SharedModel(gossip::ModelSnapshot initial) : published_(std::move(initial)) {}

gossip::ModelSnapshot SharedModel::Snapshot() {
  std::lock_guard<std::mutex> lock(mutex_);
  return published_;
}

void SharedModel::Offer(gossip::ReceivedModel remote) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (pending_.size() >= kMaxPendingOffers) {
    pending_.erase(pending_.begin());
    ++offers_dropped_;
  }
  pending_.push_back(std::move(remote));
}

std::vector<gossip::ReceivedModel> SharedModel::TakeOffers() {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::exchange(pending_, {});
}

void SharedModel::Publish(const std::vector<float>& params, std::uint64_t age) {
  std::lock_guard<std::mutex> lock(mutex_);
  published_.params = params;
  published_.age = age;
}

std::size_t SharedModel::offers_dropped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return offers_dropped_;
}

}  // namespace gl::node

// SharedModel: the hand-over point between the training thread, which owns the real
// nn::Model, and the io thread, which runs the gossip engine.
//
// After every minibatch the training thread takes the remote models that arrived
// meanwhile, merges them, and publishes a copy of the merged parameters. The
// io thread only ever copies the published snapshot or queues a remote model. Both sides
// hold one mutex for a memcpy-sized critical section, so neither waits for the other's
// work (an exchange never waits for a minibatch, training never waits for the network).
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include "gossip/model_snapshot.h"

namespace gl::node {

class SharedModel : public gossip::ModelStore {
 public:
  // At most this many remote models wait for the next minibatch; older ones are dropped
  // first (a newer model from the same cluster supersedes them).
  static constexpr std::size_t kMaxPendingOffers = 8;

  explicit SharedModel(gossip::ModelSnapshot initial);

  // io thread (gossip engine).
  gossip::ModelSnapshot Snapshot() override;
  void Offer(gossip::ReceivedModel remote) override;

  // Training thread, between minibatches: take the queued remote models, merge them,
  // then publish the result.
  std::vector<gossip::ReceivedModel> TakeOffers();
  void Publish(const std::vector<float>& params, std::uint64_t age);
  std::size_t offers_dropped() const;

 private:
  mutable std::mutex mutex_;
  gossip::ModelSnapshot published_;             // guarded by mutex_
  std::vector<gossip::ReceivedModel> pending_;  // guarded by mutex_
  std::size_t offers_dropped_ = 0;              // guarded by mutex_
};

}  // namespace gl::node

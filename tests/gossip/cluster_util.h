// Helpers shared by the engine tests: a model store that merges at once, a node bundle,
// full-mesh wiring, and a condition wait with a deadline. Single-threaded (the test drives
// the io_context itself).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gossip/engine.h"
#include "gossip/merge/merge.h"

namespace gl::gossip {

// A model that merges offers at once, remembers the signatures it was offered and counts the
// copies it handed out.
class MergingStore : public ModelStore {
 public:
  explicit MergingStore(ModelSnapshot model) : model_(std::move(model)) {}
  ModelSnapshot Snapshot() override {
    ++snapshots_;
    return model_;
  }
  void Offer(ReceivedModel remote) override {
    offered_signatures_.push_back(remote.model.signature);
    offered_senders_.push_back(remote.sender);
    MergeInto(model_, remote.model, MergeRule::kAgeWeighted);
  }
  const ModelSnapshot& model() const { return model_; }
  const std::vector<std::string>& offered_signatures() const { return offered_signatures_; }
  const std::vector<std::string>& offered_senders() const { return offered_senders_; }
  int snapshots() const { return snapshots_; }  // copies of the model the engine asked for

 private:
  ModelSnapshot model_;
  std::vector<std::string> offered_signatures_;
  std::vector<std::string> offered_senders_;  // ReceivedModel::sender of each offer
  int snapshots_ = 0;
};

struct TestNode {  // members in construction order: the engine goes first on destruction
  std::string address;
  std::unique_ptr<Transport> transport;
  std::unique_ptr<MergingStore> store;
  std::unique_ptr<Engine> engine;
};

// Every node learns every other one as a static peer, then starts.
inline void StartFullMesh(std::vector<TestNode>& nodes) {
  for (TestNode& node : nodes) {
    for (const TestNode& other : nodes) {
      if (&other != &node) node.engine->AddPeer(other.address, "static");
    }
    ASSERT_TRUE(node.engine->Start().ok());
  }
}

// Runs `io` until `done` holds; false if `deadline` passes first.
inline bool RunUntil(asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    io.run_for(std::chrono::milliseconds(10));
  }
  return true;
}

// The state `observer` reports for the peer at `address`, or "unknown".
inline std::string StateSeenBy(const Engine& observer, const std::string& address) {
  for (const PeerStatus& status : observer.Peers()) {
    if (status.address == address) return PeerStateName(status.state);
  }
  return "unknown";
}

}  // namespace gl::gossip

// What the gossip layer knows of a model: a flat parameter vector, the signature that
// says which vectors may be averaged with it, and bookkeeping for weighting.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gl::gossip {

struct ModelSnapshot {
  std::string signature;        // equal signatures <=> same architecture and layout
  std::vector<float> params;
  std::uint64_t age = 0;        // training samples folded into this model (gossip-learning "age")
  std::uint64_t local_samples = 0;  // size of the sender's local training set
};

// A model received from a peer that passed the engine's cheap checks (signature, length, all
// finite), and that peer's key ("sender_id@host", merge/peer_key.h PeerKey): the id is the
// sender's claim, the host its connection's.
struct ReceivedModel {
  std::string sender;
  ModelSnapshot model;
};

// The model as the engine sees it. Implemented by the node, which owns the real model
// and its training thread. Both calls come from the engine's io_context thread and must
// not block for long (no waiting for a minibatch or an epoch).
class ModelStore {
 public:
  virtual ~ModelStore() = default;
  // A copy of the current parameters (as of the last finished minibatch).
  virtual ModelSnapshot Snapshot() = 0;
  // A checked remote model, to be judged and merged (MergePolicy) between minibatches.
  virtual void Offer(ReceivedModel remote) = 0;
};

}  // namespace gl::gossip

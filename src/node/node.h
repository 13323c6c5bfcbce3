// Node: one gossip-learner process. Wires the libraries together:
//   nn::Model (owned by the TrainingLoop thread) <-> SharedModel <-> gossip::Engine
//   (io thread, TCP transport) <- peer events <- discovery (Avahi thread, static list),
//   and a StatusServer on the io thread.
// Run() blocks until SIGINT/SIGTERM/SIGHUP (or Shutdown()), then stops accepting, aborts the
// exchange in flight, saves a checkpoint and returns 0. A start-up takes a while (data, model,
// sockets): HoldStopSignals() first keeps a signal sent meanwhile pending rather than fatal,
// and Run() then takes it: the node starts, and stops at once as above.
#pragma once

#include <memory>

#include "common/status.h"
#include "node/config.h"

namespace gl::node {

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and the threads it starts from now
// on. Call it first in the thread that will call Run(), which unblocks them there once it
// handles them.
void HoldStopSignals();

class Node {
 public:
  virtual ~Node() = default;
  // Loads data, model (resuming from state_dir unless config.fresh), binds the gossip
  // port and the status socket. Fails with a message that says what to fix.
  static Result<std::unique_ptr<Node>> Create(const Config& config);
  virtual int Run() = 0;
};

}  // namespace gl::node

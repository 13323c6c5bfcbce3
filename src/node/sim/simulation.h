// Simulation: N virtual nodes in one process on gossip::Clock's virtual time (the driver of
// `gossip-learner simulate`). Each node is a SimNode (the node's model, training schedule,
// merge code and, in gossip mode, its real Engine over an InMemoryNetwork with link latency,
// bandwidth and loss). The driver advances the virtual time to the next event (a node's
// minibatch, a churn step, a sample), but never by more than `tick` while gossip runs, and
// runs what is due: io_context::poll for the engines' timers and messages, then the events
// (event_queue.h). Nothing waits in real time; one thread runs everything.
//
// Modes (the same shards for each): gossip; rounds (server-led FedAvg: the node's Coordinator
// and RoundParticipants, with the [coordinator] settings of `node`); local (each node trains alone, no
// network); central (one model on all the shards' data, at one node's speed).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "common/status.h"
#include "node/config.h"
#include "node/sim/churn.h"
#include "node/sim/sim_node.h"
#include "node/sim/sim_output.h"

namespace gl::node::sim {

struct SimulationOptions {
  std::size_t nodes = 10;
  std::string data;                 // folder or TSV, split into the nodes' shards
  std::string scheme = "iid";       // iid | dirichlet
  double alpha = 0.3;               // dirichlet concentration
  std::uint64_t seed = 1;
  std::string eval_data;            // held-out file every node is scored on
  std::string out;                  // folder for curves.csv and summary.json
  std::string mode = "gossip";      // gossip | rounds | local | central
  double duration_s = 600;          // virtual seconds; 0 = until --epochs
  double epochs = 0;                // > 0: stop once the nodes' mean local epochs reach it
  double sample_every_s = 30;       // scoring period (virtual)
  std::size_t peers = 10;           // static peers per node (random, fixed); capped at nodes - 1
  double tick_ms = 10;              // largest virtual step while gossip runs
  gossip::LinkConditions links;
  ChurnPlan churn;
  // The node's [training] and [gossip] settings, as `run` takes them (its seed is not used:
  // node i's model and shuffling use seed + i), and, in rounds mode, the coordinator's
  // [coordinator] settings.
  Config node;
  double samples_per_s = 2000;  // virtual training speed of each node
  std::size_t smoothing_merges = TrainingLoopOptions{}.smoothing_merges;
};

// Runs the whole simulation, printing progress to `progress` and writing --out. Bad options
// or data (e.g. more nodes than names) are refused with what to change before --out is touched.
Result<Summary> RunSimulation(const SimulationOptions& options, std::ostream& progress);

}  // namespace gl::node::sim

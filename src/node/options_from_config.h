// The node's settings translated into the options of the parts that use them, one function per
// part: a new setting is one declaration (node/settings_table.cc) plus one line here.
#pragma once

#include <cstddef>

#include "gossip/options.h"
#include "gossip/rounds/fedavg.h"
#include "gossip/rounds/round_driver.h"
#include "node/config.h"
#include "node/training_loop.h"

namespace gl::node {

// Everything but node_id (which may depend on the port the transport binds) and the cluster key.
gossip::Options GossipOptionsFor(const Config& c, std::size_t param_count);

nn::TrainerOptions TrainerOptionsFor(const Config& c);

// How received models are screened, bounded and merged.
gossip::MergePolicyOptions MergePolicyOptionsFor(const Config& c);

TrainingLoopOptions TrainingLoopOptionsFor(const Config& c);

// The coordinator's strategy options (server optimizer included).
gossip::FedAvgOptions FedAvgOptionsFor(const Config& c);

// Everything but the coordinator's identity (node_id, listen_address, signature).
gossip::RoundDriverOptions RoundDriverOptionsFor(const Config& c);

}  // namespace gl::node

// CLI11 registration of `gossip-learner simulate`: N virtual nodes in this process on a
// virtual clock, with the node's own engine, peer table, merge code, codec and model
// (node/sim/simulation.h); every node takes the node's [training] and [gossip] settings, as
// `run`'s flags or from --config. Prints progress; writes --out/curves.csv and --out/summary.json.
// Sets `exit_code` (2 on a bad node setting, 1 on other bad input or a failed write) when it runs.
#pragma once

#include <CLI/CLI.hpp>

namespace gl::node {

void AddSimulateCommand(CLI::App& app, int& exit_code);

}  // namespace gl::node

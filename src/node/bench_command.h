// CLI11 registration of `gossip-learner bench [--seconds S] [--hidden H] [--json]`: what this
// machine does for a node, measured on one core: training samples/s (wall clock and per CPU
// second), the GEMM rate of the GRU's products, the time to encode + decode one model frame,
// to MAC it and to encrypt it, and the peak RSS. Prints a table, or JSON with --json. When the
// machine is busy (the bench got less than 90% of a core, or the load average exceeds the
// cores left free) it says so: the CPU-time figures are then the ones to trust.
// Sets `exit_code` when it runs.
#pragma once

#include <CLI/CLI.hpp>

namespace gl::node {

void AddBenchCommand(CLI::App& app, int& exit_code);

}  // namespace gl::node

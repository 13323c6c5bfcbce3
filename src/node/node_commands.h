// CLI11 registration of the node's subcommands:
//   run     start a node (training + gossip + discovery + status socket)
//   status  print a running node's status (readable summary, --json or --prometheus)
// Each command sets `exit_code` when it runs.
#pragma once

#include <CLI/CLI.hpp>

namespace gl::node {

void AddNodeCommands(CLI::App& app, int& exit_code);

}  // namespace gl::node

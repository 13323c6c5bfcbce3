// gossip-learner: one binary for every node of the cluster and for the offline tools.
#include <CLI/CLI.hpp>

#include "common/heap_tuning.h"
#include "node/bench_command.h"
#include "node/build_info.h"
#include "node/keygen_command.h"
#include "node/model_commands.h"
#include "node/node_commands.h"
#include "node/simulate_command.h"

int main(int argc, char** argv) {
  gl::KeepModelBuffersInHeap();
  CLI::App app{"gossip-learner: federated learning of a surname classifier over gossip, no server needed"};
  app.require_subcommand(1);
  app.set_version_flag("--version", gl::node::VersionText(), "Print the version, git commit, architecture, compiler and build flags");
  int exit_code = 0;
  gl::node::AddNodeCommands(app, exit_code);
  gl::node::AddModelCommands(app, exit_code);
  gl::node::AddKeygenCommand(app, exit_code);
  gl::node::AddBenchCommand(app, exit_code);
  gl::node::AddSimulateCommand(app, exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}

// The single-node model commands of gossip-learner: train, eval, predict and split
// (issue 2). AddModelCommands registers them as CLI11 subcommands of `app`; each one, when
// run, prints its results to stdout and errors to stderr and sets `exit_code` to non-zero
// on failure. `exit_code` must outlive app.parse(). Runs on the calling thread.
#pragma once

#include <CLI/CLI.hpp>

namespace gl::node {

void AddModelCommands(CLI::App& app, int& exit_code);

}  // namespace gl::node

// The single-node model commands of gossip-learner: train, eval, predict (node/predict_command.h)
// and split. AddModelCommands registers them as CLI11 subcommands of `app`; each one, when
// run, prints its results to stdout and errors to stderr and sets `exit_code` to non-zero
// on failure. train checks that --out is writable before it trains; split removes the
// node-K.tsv files an earlier split into the same folder left beyond the new shard count. `exit_code` must outlive app.parse(). Runs on the calling thread.
#pragma once

#include <CLI/CLI.hpp>

namespace gl::node {

void AddModelCommands(CLI::App& app, int& exit_code);

}  // namespace gl::node

// CLI11 registration of `gossip-learner keygen --out FILE [--force]`: writes a fresh cluster
// key (64 hex digits, gossip/wire/auth.h) to FILE with mode 0600, created owner-only from the
// start. Refuses to overwrite an existing file unless --force. Sets `exit_code` when it runs.
#pragma once

#include <CLI/CLI.hpp>

namespace gl::node {

void AddKeygenCommand(CLI::App& app, int& exit_code);

}  // namespace gl::node

// The coordinator's round counter on disk: <state_dir>/round holds the last completed round
// as decimal text, written atomically (common/atomic_file.h) after the global model's
// checkpoint and the server optimizer's state (server_optimizer_file.h), so a restarted
// coordinator resumes from there. Not thread-safe: one writer.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace gl::node {

Status SaveLastRound(const std::string& state_dir, std::uint64_t round);
// 0 when there is no file; Corruption when it does not hold a number.
Result<std::uint64_t> LoadLastRound(const std::string& state_dir);

}  // namespace gl::node

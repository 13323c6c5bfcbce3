// The coordinator's server optimizer state on disk (gossip/rounds/server_optimizer.h), so that a
// restarted coordinator continues with the same momentum / Adam moments.
//
// <state_dir>/server_optimizer, all integers little-endian (common/little_endian.h):
//   magic     8 bytes  "GLSOPT1\n"
//   round     u64      the round after which the state was saved
//   kind      u32 byte count, then the optimizer's kind (sgd | adam)
//   first     u64 count, then count x f64 (IEEE 754): sgd v, adam m
//   second    u64 count, then count x f64: adam s
//   checksum  u64      FNV-1a 64 of every byte before it
// NodeRoundWorker writes it atomically (common/atomic_file.h) after the global model's
// checkpoint and before <state_dir>/round (round_state.h). A crash between the two leaves a
// state saved after a round the counter has not reached, which ResumeServerOptimizer refuses:
// the optimizer then starts at zero, and the round counter and model are unaffected.
// Pure functions of their arguments and the file system; thread-safe for distinct folders.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/status.h"
#include "gossip/rounds/server_optimizer.h"
#include "gossip/rounds/strategy.h"

namespace gl::node {

struct SavedServerOptimizerState {
  std::uint64_t round = 0;
  gossip::ServerOptimizerState state;
};

Status SaveServerOptimizerState(const std::string& state_dir, std::uint64_t round,
                                const gossip::ServerOptimizerState& state);
// NotFound (no file), IoError (a folder, unreadable) or Corruption (bad magic, truncated,
// checksum mismatch, trailing bytes).
Result<SavedServerOptimizerState> LoadServerOptimizerState(const std::string& state_dir);

// Restores `strategy`'s server optimizer from the state saved after `last_round`, for a model of
// `parameters` values. Otherwise leaves it at zero and says why: NotFound, Corruption, Rejected
// (saved after another round) or InvalidArgument (another kind or model size: the options changed).
Status ResumeServerOptimizer(const std::string& state_dir, std::uint64_t last_round, std::size_t parameters,
                             gossip::Strategy& strategy);

}  // namespace gl::node

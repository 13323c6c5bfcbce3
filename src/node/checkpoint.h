// Checkpoints of a node's model in its state directory.
//
// Files: model.ckpt (newest), model.prev.ckpt (the one before), each with a small
// sidecar <file>.meta ("age epochs" as text). Save() rotates newest -> prev, then
// writes the new meta and model atomically (common/atomic_file.h: tmp + fsync + rename + dir fsync),
// so a kill -9 at any moment leaves at least one loadable checkpoint. LoadNewest()
// falls back to the previous checkpoint when the newest is missing or corrupt (each model
// file ends with a checksum, nn/model_file.h).
// Test hook: with GL_TEST_CRASH_IN_CHECKPOINT=N in the environment, the Nth Save() of the
// process aborts half-way through writing the new model's temporary file, like a power cut
// (tests/integration/test_crash_safety.py).
// Not thread-safe: used by the training thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "nn/model.h"

namespace gl::node {

struct CheckpointMeta {
  std::uint64_t age = 0;     // training samples folded into the model
  std::uint64_t epochs = 0;  // passes over the local data
};

struct LoadedCheckpoint {
  std::unique_ptr<nn::Model> model;
  CheckpointMeta meta;
  std::string path;
};

class Checkpointer {
 public:
  explicit Checkpointer(std::string state_dir);

  Status Save(const nn::Model& model, const CheckpointMeta& meta);
  // NotFound when there is no checkpoint at all; Corruption/Rejected (with both
  // reasons) when none of them is usable for a model of `signature`.
  Result<LoadedCheckpoint> LoadNewest(const std::string& signature) const;

 private:
  std::string newest_path() const;
  std::string previous_path() const;
  std::string state_dir_;
};

}  // namespace gl::node

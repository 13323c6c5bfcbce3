// The model files of a node in its state directory: checkpoints of its training state, and
// the exported model, model.bin: the weights the node last scored (status, log), as a plain
// model file (nn/model_file.h) for `gossip-learner eval|predict --model`.
//
// A checkpoint is ONE file, so that the model and what is known about it (age, epochs) are
// written, renamed and lost together; all integers little-endian (common/little_endian.h):
//   magic       8 bytes  "GLCKPT2\n"
//   age         u64      training samples folded into the model
//   epochs      u64      passes over the local data
//   signature   u32 byte count, then nn::Model::Signature()
//   count       u64      number of parameters
//   parameters  count x fp32, the raw training weights (not the smoothed ones a node scores
//               and exports to model.bin, see training_loop.h)
//   checksum    u64      FNV-1a 64 of every byte before it
// Files: model.ckpt (newest) and model.prev.ckpt (the one before). Save() writes the new
// checkpoint to a temporary file and only once it is complete on disk rotates newest -> prev
// and renames it in (common/atomic_file.h): a kill -9 or a full disk at any moment leaves the
// last good checkpoint loadable, and a failed write removes its temporary file. When the disk
// has no room for the new file but would have without model.prev.ckpt, and model.ckpt is good,
// Save() deletes model.prev.ckpt first (and logs it), so a node on a full disk keeps saving
// its progress rather than keeping an ever older pair. Save() refuses
// a model with a non-finite parameter (the previous checkpoints stay). LoadNewest() falls
// back to the previous checkpoint when the newest is missing, not a file, or fails its
// checksum, and says so in the log.
// Upgrade: the previous release kept each checkpoint as a model file (nn/model_file.h) plus a
// sidecar <file>.meta ("AGE EPOCHS\n"). When no checkpoint of the current format is usable,
// LoadNewest() resumes from such a pair (sidecar parsed strictly, model of this signature,
// finite) and logs it. The next Save() first rewrites that checkpoint in the current format
// as model.ckpt (so that the rotation keeps it as model.prev.ckpt), then saves as usual, and
// only once the new checkpoint is on disk deletes the .meta sidecars: at any moment a restart
// finds one loadable checkpoint.
// Test hook: with GL_TEST_CRASH_IN_CHECKPOINT=N in the environment, the Nth Save() of the
// process aborts half-way through writing the new checkpoint's temporary file, like a power
// cut (tests/integration/test_crash_safety.py).
// Not thread-safe: used by the training thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "nn/model.h"

namespace gl::node {

struct CheckpointMeta {
  std::uint64_t age = 0;     // training samples folded into the model
  std::uint64_t epochs = 0;  // passes over the local data
};

struct LoadedCheckpoint {
  std::vector<float> params;  // finite, for a model of the signature asked for
  CheckpointMeta meta;
  std::string path;
  bool older_format = false;  // read from the previous release's model file + .meta pair
};

class Checkpointer {
 public:
  explicit Checkpointer(std::string state_dir);

  // Rejected (non-finite parameter) or IoError; either way the previous checkpoints stay.
  Status Save(const std::string& signature, const std::vector<float>& params, const CheckpointMeta& meta);
  // NotFound when there is no checkpoint at all; Corruption/Rejected (with both
  // reasons) when none of them is usable for a model of `signature`.
  Result<LoadedCheckpoint> LoadNewest(const std::string& signature) const;

  // Writes `model` atomically to exported_path(); Rejected (non-finite parameter, the
  // previous file stays) or IoError.
  Status Export(const nn::Model& model) const;
  std::string exported_path() const;

 private:
  std::string newest_path() const;
  std::string previous_path() const;
  void MakeRoomFor(std::size_t bytes, const std::string& signature);
  // The first usable checkpoint of the older format; with `reasons`, each unusable one is
  // logged and appended there.
  Result<LoadedCheckpoint> LoadOlderPairs(const std::string& signature, std::string* reasons) const;
  bool HasOlderMeta() const;
  Status RewriteOlderNewest(const std::string& signature);
  void RemoveOlderMeta() const;
  std::string state_dir_;
};

}  // namespace gl::node

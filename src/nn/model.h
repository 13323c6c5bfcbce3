// The surname classifier: a GRU over the characters of a name, then a fully connected
// softmax over the labels. Built on tiny-dnn, which stays hidden behind this header.
//
// What the rest of gossip-learner sees of a model is its Signature() (architecture,
// hidden size, max length, alphabet and labels: two models can be averaged iff their
// signatures are equal) and its parameters as one flat std::vector<float> in a fixed
// order.
//
// Memory: a Model holds only its own state: its parameters, once trained two optimizer
// moments of the same size, and a dropout engine. The buffers of a forward or backward
// pass belong to the calling thread, one set per architecture, built on the thread's first
// TrainBatch/Predict/Evaluate and kept until the thread ends: every model used on that
// thread shares them, so N models on one thread cost N states plus one set of buffers.
//
// Thread-safety: a Model is not thread-safe; use one from one thread at a time (any
// thread: a model may move between threads).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "nn/alphabet.h"
#include "nn/dataset.h"
#include "nn/metrics.h"

namespace gl::nn {

struct ModelOptions {
  int hidden_size = 128;                      // GRU state size; 8..1024
  int max_name_length = 20;                   // longer names are truncated to their first characters
  std::vector<std::string> labels = DefaultLabels();
  AlphabetKind alphabet = AlphabetKind::kFoldAccents;  // see nn/alphabet.h for the choice
  std::uint64_t seed = 1;                     // weight initialisation
};

// How TrainBatch steps: Adam (nn/adam.h; its moments are kept across calls) or plain SGD
// (nn/sgd.h; what a round coordinator may ask its participants for).
enum class Optimizer { kAdam, kSgd };

struct TrainerOptions {
  Optimizer optimizer = Optimizer::kAdam;
  float learning_rate = 3e-3f;
  float clip_norm = 5.0f;                     // global gradient-norm clipping; 0 = off
  float dropout = 0.0f;                       // on the GRU's last state while training; [0, 1)
  // Weight each label's loss by (n_samples / (n_labels * n_label))^class_weight_power;
  // counts set by SetClassWeights. Power 1 is the usual "balanced" weighting, 0.5 a milder one.
  bool class_weighting = false;
  float class_weight_power = 1.0f;
};

class Model {
 public:
  virtual ~Model() = default;

  static Result<std::unique_ptr<Model>> Create(const ModelOptions& options);
  // Reads a model file; fails with a clear message if it is missing, truncated,
  // corrupt (checksum) or of an unknown format version.
  static Result<std::unique_ptr<Model>> Load(const std::string& path);
  // Fails unless the file's signature equals `expected_signature`.
  static Result<std::unique_ptr<Model>> LoadExpecting(const std::string& path,
                                                      const std::string& expected_signature);
  // Writes atomically (temporary file, fsync, rename, directory fsync): a crash at any
  // moment leaves either the old or the new file.
  virtual Status Save(const std::string& path) const = 0;

  // Stable across processes and machines, e.g. "gru1/h128/l20/a<hash>/c18/<hash>".
  virtual const std::string& Signature() const = 0;
  virtual const std::vector<std::string>& Labels() const = 0;

  virtual std::size_t ParameterCount() const = 0;
  virtual std::vector<float> GetParameters() const = 0;
  // Rejects a vector of the wrong length or with a non-finite value; the model is
  // unchanged then. The optimizer state is kept.
  virtual Status SetParameters(const std::vector<float>& params) = 0;
  // Moves every parameter `share` (in [0, 1]) of the way toward `target`, in place (no copy
  // of the parameters: it runs after every minibatch). Rejects what SetParameters rejects,
  // and a share outside [0, 1]; the model is unchanged then.
  virtual Status MoveToward(const std::vector<float>& target, float share) = 0;

  virtual void SetTrainerOptions(const TrainerOptions& options) = 0;
  // Per-label loss weights computed from `counts` (used when class_weighting is on).
  virtual void SetClassWeights(const std::vector<std::size_t>& counts) = 0;
  // One optimizer step on `batch` (any size >= 1); returns the mean loss of the batch.
  virtual float TrainBatch(const std::vector<Example>& batch) = 0;

  // Probabilities over Labels() for one name.
  virtual std::vector<float> Predict(const std::string& name) const = 0;
  virtual Metrics Evaluate(const Dataset& data) const = 0;
};

}  // namespace gl::nn

// RoundTask: one unit of coordinator-mode work for the TrainingLoop thread, which owns the
// nn::Model: set the model's parameters, optionally train local epochs, optionally score it
// and save a checkpoint, then report. Submitted from the io thread (TrainingLoop::Submit);
// `done` runs on the training thread and must not block (post to the io thread).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "common/status.h"
#include "gossip/wire/round_messages.h"
#include "nn/metrics.h"
#include "nn/model.h"

namespace gl::node {

struct RoundTaskResult {
  std::vector<float> params;    // the model after the task
  std::uint64_t samples = 0;    // size of the local training set
  std::uint64_t train_ms = 0;   // time spent in the local epochs
  std::optional<nn::Metrics> validation;  // set when `evaluate`
  std::optional<nn::Metrics> eval;        // set when `evaluate` and the node has eval data
};

struct RoundTask {
  std::vector<float> params;      // the model is set to these first
  std::uint32_t epochs = 0;       // local epochs over the node's training data (0 = none)
  std::uint32_t batch_size = 32;
  float learning_rate = 3e-3f;    // for these epochs only
  nn::Optimizer optimizer = nn::Optimizer::kAdam;  // for these epochs only
  bool evaluate = false;          // score the result on validation (and eval) data
  bool checkpoint = false;        // save a checkpoint of the result
  std::function<void(Result<RoundTaskResult>)> done;  // may be empty
};

// The model's optimizer for a round's `optimizer` (RoundConfig, RoundRequest).
inline nn::Optimizer OptimizerFor(gossip::LocalOptimizer optimizer) {
  return optimizer == gossip::LocalOptimizer::kSgd ? nn::Optimizer::kSgd : nn::Optimizer::kAdam;
}

}  // namespace gl::node

// Epoch-level training on top of Model::TrainBatch: shuffles the examples with the
// caller's engine (so a run is deterministic for a seed) and feeds them in minibatches.
// Runs on the calling thread; the Model must not be used elsewhere meanwhile.
#pragma once

#include <cstddef>
#include <random>

#include "nn/dataset.h"
#include "nn/model.h"

namespace gl::nn {

struct EpochStats {
  double mean_loss = 0;     // mean of the batch losses, weighted by batch size
  std::size_t samples = 0;
  double seconds = 0;       // wall time spent in the epoch
};

EpochStats TrainEpoch(Model& model, const Dataset& data, int batch_size, std::mt19937_64& rng);

}  // namespace gl::nn

// Epoch-level training on top of Model::TrainBatch: shuffles the examples with the
// caller's engine (so a run is deterministic for a seed) and feeds them in minibatches.
// Runs on the calling thread; the Model must not be used elsewhere meanwhile.
#pragma once

#include <cstddef>
#include <random>
#include <vector>

#include "nn/dataset.h"
#include "nn/model.h"

namespace gl::nn {

struct EpochStats {
  double mean_loss = 0;     // mean of the batch losses, weighted by batch size
  std::size_t samples = 0;
  double seconds = 0;       // wall time spent in the epoch
  double cpu_seconds = 0;   // CPU time of the process meanwhile (robust on a shared machine)
};

// Running mean of parameter vectors (stochastic weight averaging): the mean of the
// weights visited late in training often generalises better than the last ones.
class ParameterAverage {
 public:
  void Add(const std::vector<float>& params);
  std::size_t count() const { return count_; }
  std::vector<float> Mean() const;  // empty if nothing was added

 private:
  std::vector<double> sum_;
  std::size_t count_ = 0;
};

// One pass over `data` in shuffled minibatches. With `average`, the parameters after
// every batch are added to it.
EpochStats TrainEpoch(Model& model, const Dataset& data, int batch_size, std::mt19937_64& rng,
                      ParameterAverage* average = nullptr);

}  // namespace gl::nn

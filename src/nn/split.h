// Splitting a dataset: stratified train/validation, and per-node shards (IID or
// Dirichlet-skewed) that are disjoint, cover the input and depend only on the seed.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "common/status.h"
#include "nn/dataset.h"

namespace gl::nn {

// Stratified split: about `validation_fraction` of each label goes to the second set.
std::pair<Dataset, Dataset> TrainValidationSplit(const Dataset& data, double validation_fraction,
                                                 std::uint64_t seed);

enum class ShardScheme { kIid, kDirichlet };

struct ShardOptions {
  int nodes = 4;                           // >= 1
  ShardScheme scheme = ShardScheme::kIid;
  double alpha = 0.3;                      // Dirichlet concentration; smaller = more skewed
  std::uint64_t seed = 1;
};

// One dataset per node; every example lands in exactly one shard; no shard is empty.
Result<std::vector<Dataset>> MakeShards(const Dataset& data, const ShardOptions& options);

}  // namespace gl::nn

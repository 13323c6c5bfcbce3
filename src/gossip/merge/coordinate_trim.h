// Coordinate-wise trimmed mean (Yin et al. 2018) of equal-length parameter vectors: for each
// index, drop the `trim` smallest and `trim` largest values and average the rest. Pure
// arithmetic, no I/O; the shared core of the coordinator's TrimmedMean strategy and of the
// gossip PeerWindow merge.
#pragma once

#include <cstddef>
#include <vector>

namespace gl::gossip {

// Values to drop at each end among `n`: 0 when n < 3 (two values cannot outvote each other),
// else max(1, floor(beta x n)), at most (n - 1) / 2 so that at least one value is kept.
// `beta` in [0, 0.5).
std::size_t TrimCount(std::size_t n, double beta);

// result[i] = mean of the models' i-th values without the `trim` smallest and largest.
// With trim = 0 it is the plain mean.
// REQUIRES: !models.empty(), every model of the same size, 2 x trim < models.size().
std::vector<float> CoordinateTrimmedMean(const std::vector<const std::vector<float>*>& models, std::size_t trim);

}  // namespace gl::gossip

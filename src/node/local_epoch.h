// LocalEpochOrder: the order in which one local epoch visits a node's training examples.
// An epoch is whole shuffled passes over the shard, as many as it takes to reach
// `min_samples`: a shard of 15 names would otherwise make an epoch one minibatch long, and
// the node's pacing and learning-rate decay (both counted in local epochs) would give the
// cluster one step per paced epoch. A shard of at least `min_samples` makes one pass.
#pragma once

#include <cstddef>
#include <random>
#include <vector>

namespace gl::node {

// Replaces `order` with ceil(max(min_samples, 1) / shard_size) passes, each a permutation of
// 0 .. shard_size-1 drawn from `rng`; empty if shard_size is 0.
void LocalEpochOrder(std::vector<std::size_t>& order, std::size_t shard_size, std::size_t min_samples,
                     std::mt19937_64& rng);

}  // namespace gl::node

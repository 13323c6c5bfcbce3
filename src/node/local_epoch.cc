#include "node/local_epoch.h"

#include <algorithm>
#include <numeric>

namespace gl::node {

void LocalEpochOrder(std::vector<std::size_t>& order, std::size_t shard_size, std::size_t min_samples,
                     std::mt19937_64& rng) {
  order.clear();
  if (shard_size == 0) return;
  const std::size_t passes = (std::max<std::size_t>(min_samples, 1) + shard_size - 1) / shard_size;
  order.resize(passes * shard_size);
  for (std::size_t pass = 0; pass < passes; ++pass) {
    const auto begin = order.begin() + static_cast<std::ptrdiff_t>(pass * shard_size);
    std::iota(begin, begin + static_cast<std::ptrdiff_t>(shard_size), 0);
    std::shuffle(begin, begin + static_cast<std::ptrdiff_t>(shard_size), rng);
  }
}

}  // namespace gl::node

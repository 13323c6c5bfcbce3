// Seeded randomness that gives the same results on every platform for a seed: an
// explicit Fisher-Yates shuffle over std::mt19937_64 (whose output the standard fixes).
// Pure functions; the caller owns the engine.
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace gl::nn {

// Uniform in [0, n), n >= 1 (modulo bias is below 2^-40 for the sizes used here).
inline std::size_t UniformIndex(std::mt19937_64& rng, std::size_t n) { return rng() % n; }

template <typename T>
void Shuffle(std::vector<T>& items, std::mt19937_64& rng) {
  for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[UniformIndex(rng, i)]);
}

}  // namespace gl::nn

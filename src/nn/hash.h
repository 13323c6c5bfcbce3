// 64-bit FNV-1a, used for model signatures and the model file checksum. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace gl::nn {

constexpr std::uint64_t kFnvOffset = 14695981039346656037ull;

// Continues a hash from `state` (kFnvOffset to start) over `bytes`.
inline std::uint64_t Fnv1a64(std::string_view bytes, std::uint64_t state = kFnvOffset) {
  for (unsigned char c : bytes) {
    state ^= c;
    state *= 1099511628211ull;
  }
  return state;
}

}  // namespace gl::nn

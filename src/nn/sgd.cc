#include "nn/sgd.h"

#include <optional>

#include "nn/gradient_clip.h"

namespace gl::nn {
namespace {

// The element-wise update; a function of its own so that __restrict applies and it vectorises.
void Update(std::size_t n, float* __restrict w, const float* __restrict g, float step) {
  for (std::size_t k = 0; k < n; ++k) w[k] -= step * g[k];
}

}  // namespace

bool SgdStep(const std::vector<std::span<float>>& params, std::span<const float> grads, float learning_rate,
             float clip_norm) {
  const std::optional<float> scale = ClipScale(grads, clip_norm);
  if (!scale) return false;
  std::size_t i = 0;
  for (const std::span<float>& block : params) {
    Update(block.size(), block.data(), grads.data() + i, learning_rate * *scale);
    i += block.size();
  }
  return true;
}

}  // namespace gl::nn

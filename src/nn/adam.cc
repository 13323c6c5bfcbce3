#include "nn/adam.h"

#include <cmath>
#include <optional>

#include "nn/gradient_clip.h"

namespace gl::nn {
namespace {

constexpr double kBeta1 = 0.9, kBeta2 = 0.999;

// The element-wise update; a function of its own so that __restrict applies and it vectorises.
void Update(std::size_t n, float* __restrict w, float* __restrict m, float* __restrict v, const float* __restrict g,
            float scale, float step_size, float sqrt_c2) {
  constexpr float kEps = 1e-8f, beta1 = static_cast<float>(kBeta1), beta2 = static_cast<float>(kBeta2);
  for (std::size_t k = 0; k < n; ++k) {
    const float gk = g[k] * scale;
    m[k] = beta1 * m[k] + (1.0f - beta1) * gk;
    v[k] = beta2 * v[k] + (1.0f - beta2) * gk * gk;
    w[k] -= step_size * m[k] / (std::sqrt(v[k]) / sqrt_c2 + kEps);
  }
}

}  // namespace

bool Adam::Step(const std::vector<std::span<float>>& params, std::span<const float> grads, float learning_rate,
                float clip_norm) {
  if (m_.size() != grads.size()) m_.assign(grads.size(), 0.0f), v_.assign(grads.size(), 0.0f), steps_ = 0;
  const std::optional<float> scale = ClipScale(grads, clip_norm);
  if (!scale) return false;
  ++steps_;
  const auto correction1 = static_cast<float>(1.0 - std::pow(kBeta1, static_cast<double>(steps_)));
  const auto correction2 = static_cast<float>(1.0 - std::pow(kBeta2, static_cast<double>(steps_)));
  const float step_size = learning_rate / correction1;
  const float sqrt_c2 = std::sqrt(correction2);
  std::size_t i = 0;
  for (const std::span<float>& block : params) {
    Update(block.size(), block.data(), m_.data() + i, v_.data() + i, grads.data() + i, *scale, step_size, sqrt_c2);
    i += block.size();
  }
  return true;
}

}  // namespace gl::nn

#include "nn/adam.h"

#include <cmath>

namespace gl::nn {

void Adam::Step(const std::vector<std::span<float>>& params, std::span<const float> grads, float learning_rate,
                float clip_norm) {
  constexpr double kBeta1 = 0.9, kBeta2 = 0.999;
  constexpr float kEps = 1e-8f;
  if (m_.size() != grads.size()) m_.assign(grads.size(), 0.0f), v_.assign(grads.size(), 0.0f), steps_ = 0;
  double norm_sq = 0;
  for (float g : grads) norm_sq += static_cast<double>(g) * g;
  const double norm = std::sqrt(norm_sq);
  const float scale = clip_norm > 0 && norm > clip_norm ? static_cast<float>(clip_norm / (norm + 1e-6)) : 1.0f;
  ++steps_;
  const auto correction1 = static_cast<float>(1.0 - std::pow(kBeta1, static_cast<double>(steps_)));
  const auto correction2 = static_cast<float>(1.0 - std::pow(kBeta2, static_cast<double>(steps_)));
  const float step_size = learning_rate / correction1;
  const float sqrt_c2 = std::sqrt(correction2);
  const auto beta1 = static_cast<float>(kBeta1), beta2 = static_cast<float>(kBeta2);
  std::size_t i = 0;
  for (const std::span<float>& block : params) {
    float* __restrict w = block.data();
    float* __restrict m = m_.data() + i;
    float* __restrict v = v_.data() + i;
    const float* __restrict g = grads.data() + i;
    for (std::size_t k = 0; k < block.size(); ++k) {
      const float gk = g[k] * scale;
      m[k] = beta1 * m[k] + (1.0f - beta1) * gk;
      v[k] = beta2 * v[k] + (1.0f - beta2) * gk * gk;
      w[k] -= step_size * m[k] / (std::sqrt(v[k]) / sqrt_c2 + kEps);
    }
    i += block.size();
  }
}

}  // namespace gl::nn

#include "nn/gradient_clip.h"

#include <cmath>

namespace gl::nn {
namespace {

// Sum of squares in 8 independent lanes, so that it vectorises without -ffast-math.
double SquaredNorm(std::span<const float> x) {
  double lanes[8] = {};
  std::size_t k = 0;
  for (; k + 8 <= x.size(); k += 8) {
    for (int l = 0; l < 8; ++l) lanes[l] += static_cast<double>(x[k + l]) * x[k + l];
  }
  for (; k < x.size(); ++k) lanes[0] += static_cast<double>(x[k]) * x[k];
  double sum = 0;
  for (double lane : lanes) sum += lane;
  return sum;
}

}  // namespace

std::optional<float> ClipScale(std::span<const float> grads, float clip_norm) {
  const double norm = std::sqrt(SquaredNorm(grads));
  if (!std::isfinite(norm)) return std::nullopt;
  return clip_norm > 0 && norm > clip_norm ? static_cast<float>(clip_norm / (norm + 1e-6)) : 1.0f;
}

}  // namespace gl::nn

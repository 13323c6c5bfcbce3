// Adam with global gradient-norm clipping, as PyTorch does it (clip_grad_norm_ then
// torch.optim.Adam, beta1 0.9, beta2 0.999, eps 1e-8, bias correction once per step).
// Used instead of tiny-dnn's adam, whose fit() resets the state on every call and whose
// bias correction advances once per weight vector instead of once per step.
// State (moments, step count) persists across Step() calls; the parameter layout must
// not change between calls. Not thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace gl::nn {

class Adam {
 public:
  // One step: scales `grads` (all parameters, flat, same order as `params`) down to norm
  // `clip_norm` if larger (0 = no clipping), then updates `params` in place. A gradient
  // with a non-finite value is skipped whole (returns false; params, moments and step
  // count unchanged): one NaN in the moments would poison every later step, even after
  // the parameters are restored.
  bool Step(const std::vector<std::span<float>>& params, std::span<const float> grads, float learning_rate,
            float clip_norm);

 private:
  std::vector<float> m_, v_;
  std::int64_t steps_ = 0;
};

}  // namespace gl::nn

// Global gradient-norm clipping, as PyTorch's clip_grad_norm_: the factor that scales a flat
// gradient down to a given norm. Shared by the optimizers (adam.h, sgd.h). Pure; any thread.
#pragma once

#include <optional>
#include <span>

namespace gl::nn {

// The factor to multiply `grads` by so that its L2 norm is at most `clip_norm` (1 when it
// already is, or when clip_norm is 0 = off); nullopt when a value is not finite.
std::optional<float> ClipScale(std::span<const float> grads, float clip_norm);

}  // namespace gl::nn

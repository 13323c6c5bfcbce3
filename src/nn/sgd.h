// Plain stochastic gradient descent with global gradient-norm clipping: w -= lr x clip(g).
// No state. What a round participant trains with when the coordinator asks for it
// (TrainerOptions::optimizer): with one step a round and an adaptive server optimizer this is
// FedSGD + FedAdam, whose average of the participants' steps is the gradient of their
// pooled data (Adam's steps would each be about the sign of a small shard's gradient).
#pragma once

#include <span>
#include <vector>

namespace gl::nn {

// One step on `params` (all parameters, flat, same order as `grads`); `grads` is scaled down
// to norm `clip_norm` first if larger (0 = no clipping). A gradient with a non-finite value is
// skipped whole: returns false, params unchanged.
bool SgdStep(const std::vector<std::span<float>>& params, std::span<const float> grads, float learning_rate,
             float clip_norm);

}  // namespace gl::nn

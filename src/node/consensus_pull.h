// PullTowardConsensus: after each local minibatch, a node moves its parameters a small step
// toward its estimate of the cluster's consensus (the average of the peers' models it merged,
// TrainingLoopOptions::smoothing_merges): p += rate * (consensus - p).
//
// Why: on non-IID shards every model drifts toward its own labels between merges, and the
// merged models carry that drift into the consensus. A proximal step (as FedProx's term,
// applied to the weights after the optimizer, so Adam's per-weight scaling does not undo it)
// bounds the drift without slowing the steps that agree with the cluster. The anchor is the
// peers' average, not the node's own model after its last merge, so the pull also carries the
// other shards' knowledge in between exchanges. Figures: bench/RESULTS.md "Pulling toward the
// consensus".
#pragma once

#include "nn/model.h"
#include "node/parameter_ema.h"

namespace gl::node {

// Does nothing (returns false) when `rate` <= 0, the estimate is empty or of another length;
// otherwise applies the step and returns whether the model accepted the result (it refuses
// a non-finite estimate or a rate above 1, and is then unchanged).
bool PullTowardConsensus(nn::Model& model, const ParameterEma& consensus, float rate);

}  // namespace gl::node

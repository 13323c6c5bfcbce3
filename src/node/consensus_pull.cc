#include "node/consensus_pull.h"

#include <vector>

namespace gl::node {

bool PullTowardConsensus(nn::Model& model, const ParameterEma& consensus, float rate) {
  if (rate <= 0 || consensus.empty()) return false;
  std::vector<float> params = model.GetParameters();
  const std::vector<float>& target = consensus.value();
  if (target.size() != params.size()) return false;
  for (std::size_t i = 0; i < params.size(); ++i) params[i] += rate * (target[i] - params[i]);
  return model.SetParameters(params).ok();
}

}  // namespace gl::node

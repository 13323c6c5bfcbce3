#include "node/consensus_pull.h"

namespace gl::node {

bool PullTowardConsensus(nn::Model& model, const ParameterEma& consensus, float rate) {
  if (rate <= 0 || consensus.empty()) return false;
  return model.MoveToward(consensus.value(), rate).ok();
}

}  // namespace gl::node

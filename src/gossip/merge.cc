#include "gossip/merge.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace gl::gossip {

Status ValidateRemote(const ModelSnapshot& remote, const std::string& signature, std::size_t param_count) {
  if (remote.signature != signature) {
    return Status::Rejected("model signature '" + remote.signature + "' differs from the local '" + signature + "'");
  }
  if (remote.params.size() != param_count) {
    return Status::Rejected("model has " + std::to_string(remote.params.size()) + " parameters, expected " +
                            std::to_string(param_count));
  }
  for (std::size_t i = 0; i < remote.params.size(); ++i) {
    if (!std::isfinite(remote.params[i])) {
      return Status::Rejected("parameter " + std::to_string(i) + " is not finite");
    }
  }
  return Status::Ok();
}

double UpdateNorm(const std::vector<float>& remote, const std::vector<float>& local) {
  double sum = 0;
  for (std::size_t i = 0; i < remote.size(); ++i) {
    const double d = static_cast<double>(remote[i]) - static_cast<double>(local[i]);
    sum += d * d;
  }
  return std::sqrt(sum);
}

std::uint64_t CappedRemoteAge(std::uint64_t local_age, std::uint64_t remote_age) {
  const std::uint64_t cap = local_age > UINT64_MAX / kMaxRemoteAgeRatio ? UINT64_MAX : local_age * kMaxRemoteAgeRatio;
  return std::min(remote_age, cap);
}

void MergeInto(ModelSnapshot& local, const ModelSnapshot& remote, MergeRule rule) {
  const std::uint64_t remote_age = CappedRemoteAge(local.age, remote.age);
  double local_weight = 0.5;
  if (rule == MergeRule::kAgeWeighted && local.age + remote_age > 0) {
    local_weight = static_cast<double>(local.age) / (static_cast<double>(local.age) + static_cast<double>(remote_age));
  }
  const double remote_weight = 1.0 - local_weight;
  for (std::size_t i = 0; i < local.params.size(); ++i) {
    local.params[i] = static_cast<float>(local_weight * local.params[i] + remote_weight * remote.params[i]);
  }
  local.age = std::max(local.age, remote_age);
}

}  // namespace gl::gossip

#include "gossip/merge/merge.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <string>

namespace gl::gossip {

bool AllFinite(const std::vector<float>& params) {
  // NaN and Inf are the floats whose exponent bits are all set; testing the bits of every
  // value without an early exit vectorises (~6x faster than std::isfinite per value).
  constexpr std::uint32_t kExponentBits = 0x7f800000u;
  std::uint32_t non_finite = 0;
  for (const float value : params) {
    non_finite |= (std::bit_cast<std::uint32_t>(value) & kExponentBits) == kExponentBits;
  }
  return non_finite == 0;
}

Status ValidateRemote(const ModelSnapshot& remote, const std::string& signature, std::size_t param_count) {
  if (remote.signature != signature) {
    return Status::Rejected("model signature '" + remote.signature + "' differs from the local '" + signature + "'");
  }
  if (remote.params.size() != param_count) {
    return Status::Rejected("model has " + std::to_string(remote.params.size()) + " parameters, expected " +
                            std::to_string(param_count));
  }
  if (AllFinite(remote.params)) return Status::Ok();
  const auto bad = std::find_if(remote.params.begin(), remote.params.end(), [](float v) { return !std::isfinite(v); });
  return Status::Rejected("parameter " + std::to_string(bad - remote.params.begin()) + " is not finite");
}

namespace {
// sqrt(sum of value(i)^2, i < n) in independent partial sums: one running sum is bound by the
// add latency (4x slower).
template <typename Value>
double LaneNorm(std::size_t n, Value value) {
  constexpr std::size_t kLanes = 8;
  std::array<double, kLanes> sums{};
  const std::size_t whole = n - n % kLanes;
  for (std::size_t i = 0; i < whole; i += kLanes) {
    for (std::size_t lane = 0; lane < kLanes; ++lane) {
      const double v = value(i + lane);
      sums[lane] += v * v;
    }
  }
  for (std::size_t i = whole; i < n; ++i) {
    const double v = value(i);
    sums[0] += v * v;
  }
  double sum = 0;
  for (const double lane_sum : sums) sum += lane_sum;
  return std::sqrt(sum);
}
}  // namespace

double UpdateNorm(const std::vector<float>& remote, const std::vector<float>& local) {
  return LaneNorm(remote.size(), [&](std::size_t i) { return static_cast<double>(remote[i]) - local[i]; });
}

double ParameterNorm(const std::vector<float>& params) {
  return LaneNorm(params.size(), [&](std::size_t i) { return static_cast<double>(params[i]); });
}

std::uint64_t CappedRemoteAge(std::uint64_t local_age, std::uint64_t remote_age) {
  const std::uint64_t cap = local_age > UINT64_MAX / kMaxRemoteAgeRatio ? UINT64_MAX : local_age * kMaxRemoteAgeRatio;
  return std::min(remote_age, cap);
}

std::uint64_t SaturatingAdd(std::uint64_t a, std::uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

std::uint64_t BoundedMergedAge(std::uint64_t age_before, std::uint64_t merged_age, std::uint64_t own_samples) {
  const std::uint64_t gain =
      own_samples > UINT64_MAX / kMaxAgeGainPerOwnSample ? UINT64_MAX : own_samples * kMaxAgeGainPerOwnSample;
  return std::max(age_before, std::min(merged_age, SaturatingAdd(age_before, gain)));
}

void MergeInto(ModelSnapshot& local, const ModelSnapshot& remote, MergeRule rule) {
  const std::uint64_t remote_age = CappedRemoteAge(local.age, remote.age);
  double local_weight = 0.5;
  if (rule == MergeRule::kAgeWeighted && (local.age > 0 || remote_age > 0)) {
    local_weight = static_cast<double>(local.age) / (static_cast<double>(local.age) + static_cast<double>(remote_age));
  }
  const double remote_weight = 1.0 - local_weight;
  for (std::size_t i = 0; i < local.params.size(); ++i) {
    local.params[i] = static_cast<float>(local_weight * local.params[i] + remote_weight * remote.params[i]);
  }
  local.age = std::max(local.age, remote_age);
}

}  // namespace gl::gossip

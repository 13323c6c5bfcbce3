// The arithmetic of merging: validation, distances, ages, the pairwise merge. Pure
// functions, no I/O; merge_policy.h decides when each applies.
#pragma once

#include "common/status.h"
#include "gossip/model_snapshot.h"

namespace gl::gossip {

enum class MergeRule {
  kAgeWeighted,  // Hegedűs, Danner, Jelasity 2019: w_local = age_l / (age_l + age_r); both 0 => 1/2,
                 // with age_r capped by CappedRemoteAge
  kAverage,      // plain mean, 1/2 each
  kTrimmedMean,  // coordinate-wise trimmed mean over a window of senders (peer_window.h);
                 // pairwise (MergeInto) the trimmed mean of two models is their mean
};

// A remote model's age counts for at most this many times the local age: a peer cannot buy
// weight by claiming a huge age (its weight in an age-weighted merge stays <= 2/3), while honest
// peers of similar age (ratio <= 2) are weighted exactly as Hegedűs et al. A node far behind
// catches up by a factor of up to 3 in age per merge.
constexpr std::uint64_t kMaxRemoteAgeRatio = 2;

// min(remote_age, kMaxRemoteAgeRatio x local_age): the age a remote model is credited with.
std::uint64_t CappedRemoteAge(std::uint64_t local_age, std::uint64_t remote_age);

// How far merges may raise a node's age: by at most this many times the samples the node
// trained itself since its previous merge. A merged age is max(local, credited remote), so
// honest ages advance about as fast as the fastest node trains: a node 16x slower than the
// fastest one still takes its age in full. Without this bound a claimed age doubles the local
// age at every merge (the credit is up to 2x local) and the inflated age spreads to every node
// that merges with it; with it, a node's age grows at most 17x as fast as it trains, whatever
// its peers claim. The age only weights merges (capped as above), so a node whose age lags
// the cluster's still gives a remote model its full 2/3.
constexpr std::uint64_t kMaxAgeGainPerOwnSample = 16;

// min(merged_age, age_before + kMaxAgeGainPerOwnSample x own_samples), never below
// age_before; saturating (an age never wraps).
std::uint64_t BoundedMergedAge(std::uint64_t age_before, std::uint64_t merged_age, std::uint64_t own_samples);

// a + b, or UINT64_MAX if that overflows.
std::uint64_t SaturatingAdd(std::uint64_t a, std::uint64_t b);

// True if every value is finite.
bool AllFinite(const std::vector<float>& params);

// Checks that `remote` may be merged into a model of `signature` and `param_count`:
// equal signature, equal length, every value finite. Returns Rejected with the reason.
Status ValidateRemote(const ModelSnapshot& remote, const std::string& signature, std::size_t param_count);

// The L2 norm of (remote - local), the size of the step a merge would take towards `remote`.
// REQUIRES: remote.size() == local.size().
double UpdateNorm(const std::vector<float>& remote, const std::vector<float>& local);
// The L2 norm of `params`.
double ParameterNorm(const std::vector<float>& params);

// local <- merge(local, remote) by `rule` (kTrimmedMean: as kAverage);
// local.age <- max(local.age, CappedRemoteAge(local.age, remote.age)).
// REQUIRES: ValidateRemote(remote, local.signature, local.params.size()).ok()
void MergeInto(ModelSnapshot& local, const ModelSnapshot& remote, MergeRule rule);

}  // namespace gl::gossip

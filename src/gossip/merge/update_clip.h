// Bounds on what one received model can do to a node in a gossip merge, after He,
// Karimireddy and Jaggi 2022, "Byzantine-robust decentralized learning via ClippedGossip".
//
// Clipping: a remote model farther than a radius from the local one is pulled onto the
// sphere of that radius around the local model before it is merged, so one peer moves a
// node by at most its merge weight (<= 2/3, merge.h) x the radius per merge, whatever it
// sends inside max_update_norm. The radius adapts to how far apart honest models are:
// `factor` x the lower median of the latest distance heard from each of the last `window`
// distinct senders (one liar among them cannot move the median past an honest value). Until
// kPriorUntilSenders senders were heard, kPriorShareOfNorm x the local model's norm counts as
// one more distance (two fresh models are ~1.4x that norm apart), so a liar that is a node's
// first or second peer is clipped too.
//
// Dropping: a model farther than `drop_factor` x the radius is not merged at all (TooFar).
// Clipped, a model that is always far in the same direction (sign-flipped: 2 norms away)
// would move the node by the radius at every merge, and the pulls add up. Honest outliers are
// not shut out: when most peers are far (a late joiner, a healed partition) the median is far
// too, and the far node itself merges toward the others until they stop counting it as far.
//
// Radial cap: early in training honest models are about a norm apart (fast Adam steps), so
// the radius is too; a model x s (0 <= s < 1: zeros, halved) then passes both checks and
// shrinks the node by 2/3 of its norm per merge. CapRadialPull bounds the part of
// (remote - local) along the local model's direction, which honest peers of similar norm
// hardly have, to a share of the local norm; the rest (where honest models differ) is left
// to the radius.
// Used by merge_policy.h, which runs them in this order. No I/O; ClipRadius is not
// thread-safe (its MergePolicy's thread owns it).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "gossip/merge/latest_per_sender.h"

namespace gl::gossip {

// The adaptive clip radius and the drop test (MergePolicy's step 2; the pull itself is
// CapRadialPull and ClipToRadius below).
class ClipRadius {
 public:
  static constexpr std::size_t kPriorUntilSenders = 3;
  static constexpr double kPriorShareOfNorm = 0.75;

  // REQUIRES: window >= 1, factor > 0, drop_factor == 0 (never drop) or >= 1.
  ClipRadius(std::size_t window, double factor, double drop_factor);

  // Records `distance` as `sender`'s latest (beyond `window` senders the least recently
  // heard is forgotten) and returns the radius to clip that sender's model to.
  // `local_norm` is ParameterNorm (merge.h) of the local model.
  double Observe(const std::string& sender, double distance, double local_norm);

  // True if a model `distance` away is not to be merged at all: beyond drop_factor x `radius`.
  bool TooFar(double distance, double radius) const;

 private:
  double factor_;
  double drop_factor_;
  LatestPerSender<double> latest_;  // each sender's latest distance
};

// Caps the component of (remote - local) along the local model's direction at
// max_share x |local| either way, so a merge cannot shrink or grow the local model by much
// more than that: remote -= (excess) x local / |local|. Returns true if it capped.
// `local_norm` is ParameterNorm (merge.h) of `local`.
// REQUIRES: remote.size() == local.size(), max_share > 0.
bool CapRadialPull(std::vector<float>& remote, const std::vector<float>& local, double local_norm, double max_share);

// If distance > radius: remote <- local + (remote - local) x radius / distance, and true.
// Else remote is left as it is, and false. `distance` is UpdateNorm(remote, local) (merge.h).
// REQUIRES: remote.size() == local.size().
bool ClipToRadius(std::vector<float>& remote, const std::vector<float>& local, double distance, double radius);

}  // namespace gl::gossip

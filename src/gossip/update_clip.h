// Norm clipping of received models before a gossip merge (issue 6), after He, Karimireddy and
// Jaggi 2022, "Byzantine-robust decentralized learning via ClippedGossip". A remote model
// farther than a radius from the local one is pulled onto the sphere of that radius around
// the local model before it is merged, so one peer moves a node by at most its merge weight
// (<= 2/3, merge.h) x the radius per merge, whatever it sends: random weights scaled to pass
// max_update_norm, or a model trained to pull the cluster away, are bounded like an honest
// disagreement. The radius adapts to how far apart honest models are: `factor` x the median
// of the latest distance heard from each of the last `window` distinct senders (one liar
// among them cannot move the median past an honest value). The median is the lower one. Until
// kPriorUntilSenders senders were heard, the local model's own norm counts as one more
// distance (two fresh models are ~1.4x that norm apart): a liar that is a node's first or
// second peer is clipped too, while a node's first honest merges are slowed at most a little.
// Clipping alone leaves a directed attack: a model that is always far in the same direction
// (the sign-flipped model, zeros: a pull toward zero) moves the node by the radius at every
// merge and the pulls add up. So a model farther than `drop_factor` x the radius is not merged
// at all (TooFar). That is no bar to honest outliers: when all peers are far (a node that
// joins late, two halves after a partition) the median is far too, and the far node itself
// merges toward the others' models until they stop counting it as far.
// No I/O; not thread-safe (the training thread owns it).
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace gl::gossip {

class ClipRadius {
 public:
  static constexpr std::size_t kPriorUntilSenders = 3;

  // REQUIRES: window >= 1, factor > 0, drop_factor == 0 (never drop) or >= 1.
  ClipRadius(std::size_t window, double factor, double drop_factor);

  // Records `distance` as `sender`'s latest (beyond `window` senders the least recently
  // heard is forgotten) and returns the radius to clip that sender's model to.
  // `local_norm` is ParameterNorm (merge.h) of the local model.
  double Observe(const std::string& sender, double distance, double local_norm);

  // True if a model `distance` away is not to be merged at all: beyond drop_factor x `radius`.
  bool TooFar(double distance, double radius) const;

 private:
  std::size_t window_;
  double factor_;
  double drop_factor_;
  std::deque<std::pair<std::string, double>> latest_;  // least recently heard first
};

// If distance > radius: remote <- local + (remote - local) x radius / distance, and true.
// Else remote is left as it is, and false. `distance` is UpdateNorm(remote, local) (merge.h).
// REQUIRES: remote.size() == local.size().
bool ClipToRadius(std::vector<float>& remote, const std::vector<float>& local, double distance, double radius);

}  // namespace gl::gossip

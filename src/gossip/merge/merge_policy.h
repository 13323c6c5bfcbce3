// MergePolicy: everything a node decides about a received model, in one place and in this
// order, with one options struct and one stats struct:
//   1. screen: signature, length, all finite (merge.h ValidateRemote), then the distance
//      bound ||remote - reference|| <= max(max_update_norm, update_to_model_norm x ||reference||);
//      a refused model is counted per sender (peer_key.h) and logged;
//   2. bound (clip_factor > 0, update_clip.h): drop a model beyond clip_drop_factor x the
//      adaptive clip radius, else cap its radial pull (clip_radial_share) and pull it in to
//      the radius;
//   3. rule: age-weighted or plain average, pairwise and in arrival order (merge.h MergeInto),
//      or the coordinate-wise trimmed mean of the local model and the latest model of each of
//      the last `trimmed_mean_window` senders (peer_window.h).
// The gossip node runs Merge on its training thread (the engine only does the cheap checks of
// step 1 before it queues a model); the coordinator runs Screen alone on its round replies,
// against the global model it sent; a participant screens a round's model against its own.
// No I/O but log lines; not thread-safe: one thread owns a MergePolicy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "gossip/merge/merge.h"
#include "gossip/merge/peer_window.h"
#include "gossip/merge/update_clip.h"
#include "gossip/model_snapshot.h"

namespace gl::gossip {

// Defaults are the node's (config/node.toml, measured in bench/security/README.md): a library
// user gets the same protection as a node without setting anything.
struct MergePolicyOptions {
  // ---- Screen ----
  // Largest L2 norm of (remote - reference) accepted; 0 = no bound. Smaller refuses
  // stragglers and fresh nodes; larger lets scaled weights in. >= 0.
  double max_update_norm = 200;
  // The bound grows with the model: at least this many times ||reference||. Two honest models
  // a and b are at most ||a|| + ||b|| apart, so an honest model up to 3x the local one's norm
  // always passes, however long the two trained apart (a partition, a late joiner), while a
  // model scaled x5 or more never does. A coordinator's round replies start from the model it
  // sent and do not drift for long: it sets 0 (max_update_norm alone). >= 0.
  double update_to_model_norm = 4;

  // ---- Bounds (update_clip.h) ----
  // > 0: a model farther than clip_factor x the median distance of the last clip_window
  // distinct senders is pulled in to that radius before it is merged. 0 = no bounds at all.
  double clip_factor = 1;
  std::size_t clip_window = 8;  // >= 1
  // > 0: a model farther than this x the clip radius is not merged. 0 = never dropped, else >= 1.
  double clip_drop_factor = 2;
  // > 0: (remote - local) along the local model's direction is first capped at this x |local|,
  // so no merge shrinks or grows the model by much more. 0 = no cap. >= 0.
  double clip_radial_share = 0.05;

  // ---- Rule ----
  MergeRule rule = MergeRule::kAgeWeighted;
  // kTrimmedMean: the latest models of this many distinct senders are kept. >= 1.
  std::size_t trimmed_mean_window = 4;

  // OK, or InvalidArgument naming the first field out of range and its range.
  Status Validate() const;

  // For a MergePolicy that only screens (MergePolicy::Screen): these bounds, no clipping.
  static MergePolicyOptions ScreenOnly(double max_update_norm, double update_to_model_norm);
};

// Every counter of what happened to received models. After Merge calls alone,
// received = refused() + dropped + merged.
struct MergeStats {
  std::uint64_t received = 0;
  std::uint64_t refused_incompatible = 0;  // screen: other signature or length
  std::uint64_t refused_not_finite = 0;    // screen: a NaN or Inf value
  std::uint64_t refused_too_far = 0;       // screen: beyond the distance bound
  std::map<std::string, std::uint64_t> refused_by_peer;  // all three, per sender key (peer_key.h)
  std::uint64_t dropped = 0;   // passed the screen, beyond clip_drop_factor x the clip radius
  std::uint64_t clipped = 0;   // merged after the radial cap or the clip moved it (either)
  std::uint64_t capped = 0;    // of those, the radial cap moved it
  std::uint64_t merged = 0;    // merged (or, kTrimmedMean, entered into the window and merged)
  double clip_radius = 0;      // the latest clip radius (0 = none yet, or bounds off)
  double update_norm_max = 0;  // largest distance from the local model of a model that passed the screen

  std::uint64_t refused() const { return refused_incompatible + refused_not_finite + refused_too_far; }
};

class MergePolicy {
 public:
  // REQUIRES: options.Validate().ok().
  explicit MergePolicy(MergePolicyOptions options);

  // Step 1 alone: may `sender`'s `remote` be merged into (or aggregated with) a model of
  // `signature` whose parameters are `reference`? A refusal is counted and returned as
  // Rejected with the reason. OK: *distance, if given, holds ||remote - reference||.
  Status Screen(const std::string& sender, const ModelSnapshot& remote, const std::string& signature,
                const std::vector<float>& reference, double* distance = nullptr);

  // Steps 1 to 3 for each offer, in order, against `local` as the earlier ones left it.
  // local.params and local.age change only if something was merged (local.age <- the largest
  // of local.age and each merged model's CappedRemoteAge, merge.h). Returns how many were merged.
  // If `merged_models` is given, a copy of each merged model's parameters, as step 2 left
  // them, is appended to it: the peers' models this node let in.
  std::size_t Merge(std::vector<ReceivedModel> offers, ModelSnapshot& local,
                    std::vector<std::vector<float>>* merged_models = nullptr);

  // Forgets the trimmed-mean window's models (stale once a round's global model replaced the
  // local one). The clip radius keeps its distances: they say how far honest peers are.
  void ForgetWindow();

  const MergeStats& stats() const { return stats_; }
  const MergePolicyOptions& options() const { return options_; }

 private:
  // Step 2 on `remote`: false if it is to be dropped.
  bool Bound(const std::string& sender, std::vector<float>& remote, const std::vector<float>& local, double distance);

  MergePolicyOptions options_;
  std::optional<ClipRadius> clip_;     // iff clip_factor > 0
  std::optional<PeerWindow> window_;   // iff rule == kTrimmedMean
  MergeStats stats_;
};

}  // namespace gl::gossip

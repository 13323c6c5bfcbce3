// PeerWindow: the optional robust gossip merge (MergePolicy's rule kTrimmedMean). It keeps the most recent model
// received from each of the last `capacity` distinct senders and merges the local model with
// them by coordinate-wise trimmed mean (coordinate_trim.h, share kTrimShare at each end: one
// value of 3..9), so one absurd or poisoned model moves no coordinate beyond the honest ones.
// Ages do not weight the mean (a liar could inflate them); the merged age is the largest
// CappedRemoteAge (merge.h). Senders are the engine's "sender_id@host" keys: the id is the
// peer's own claim, so an insider holding the cluster key who rotates ids can take several
// slots (known limit). No I/O; not thread-safe (its MergePolicy's thread owns it).
#pragma once

#include <cstddef>
#include <string>

#include "gossip/merge/latest_per_sender.h"
#include "gossip/model_snapshot.h"

namespace gl::gossip {

class PeerWindow {
 public:
  // Share of the models (local included) trimmed at each end of every coordinate.
  static constexpr double kTrimShare = 0.2;

  // REQUIRES: capacity >= 1.
  explicit PeerWindow(std::size_t capacity);

  // `model` becomes `sender`'s latest; beyond `capacity` senders the least recently heard
  // one is forgotten.
  void Add(const std::string& sender, ModelSnapshot model);
  // local.params <- coordinate-wise trimmed mean of local and the window's models (the plain
  // mean while there are fewer than 3 in all); local.age <- max(local.age, CappedRemoteAge of
  // each). REQUIRES: every model added passed ValidateRemote against `local`.
  void MergeInto(ModelSnapshot& local) const;
  // Forgets every model (they are stale after a round's global model replaced the local one).
  void Clear() { latest_.Clear(); }
  std::size_t size() const { return latest_.size(); }

 private:
  LatestPerSender<ModelSnapshot> latest_;
};

}  // namespace gl::gossip

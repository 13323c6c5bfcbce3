#include "gossip/merge/update_screen.h"

#include "common/capped_count.h"
#include "common/host_port.h"
#include "gossip/merge/merge.h"

namespace gl::gossip {

Status ScreenUpdate(const ModelSnapshot& remote, const std::string& signature, const std::vector<float>& reference,
                    double max_update_norm, double update_to_model_norm, double* norm) {
  if (Status valid = ValidateRemote(remote, signature, reference.size()); !valid.ok()) return valid;
  const double distance = UpdateNorm(remote.params, reference);
  if (max_update_norm > 0 && distance > max_update_norm) {
    const double model_norm = update_to_model_norm > 0 ? ParameterNorm(reference) : 0;
    if (distance > update_to_model_norm * model_norm) {
      return Status::Rejected("update norm " + std::to_string(distance) + " exceeds max_update_norm " +
                              std::to_string(max_update_norm) + " and " + std::to_string(update_to_model_norm) +
                              " x the local model's norm " + std::to_string(model_norm));
    }
  }
  if (norm != nullptr) *norm = distance;
  return Status::Ok();
}

std::string PeerKey(const std::string& sender_id, const std::string& address) {
  return sender_id + "@" + HostOf(address);
}

void CountPerPeer(std::map<std::string, std::uint64_t>& counts, const std::string& peer) {
  CountCapped(counts, peer, kMaxCountedPeers);
}

}  // namespace gl::gossip

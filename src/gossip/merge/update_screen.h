// Update screening: whether a received model may be merged or aggregated, and the
// per-peer count of refusals. The gossip engine screens against the local model, the
// coordinator's RoundDriver against the global model it sent; both count the same way.
// Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "gossip/model_snapshot.h"

namespace gl::gossip {

// Peers counted one by one in a refusal map; the rest are summed as "other".
constexpr std::size_t kMaxCountedPeers = 256;

// For gossip, the bound on ||remote - local|| grows with the model: at least this many times
// ||local||. Two honest models a and b are at most ||a|| + ||b|| apart, so an honest model up to
// 3x the local one's norm always passes, however long the two trained apart (nodes that drift
// apart during a partition or before they first meet still merge), while a model scaled x5 or
// more (x1000: ~999 ||local||) never does. A coordinator's round replies start from the model
// it sent and do not drift for long: it uses max_update_norm alone (ratio 0).
inline constexpr double kGossipUpdateToModelNorm = 4;

// ValidateRemote (merge.h: signature, length, all finite), then the L2 norm of
// (remote - reference) <= max(max_update_norm, update_to_model_norm x ||reference||)
// (max_update_norm 0 = no bound). OK: *norm, if given, holds that norm. Else Rejected with the
// reason.
Status ScreenUpdate(const ModelSnapshot& remote, const std::string& signature, const std::vector<float>& reference,
                    double max_update_norm, double update_to_model_norm, double* norm = nullptr);

// "sender_id@host" of a peer that sent `sender_id` from "host:port" (common/host_port.h HostOf:
// an IPv6 host without its brackets).
std::string PeerKey(const std::string& sender_id, const std::string& address);

// ++counts[peer]; once kMaxCountedPeers peers are in the map, a new one counts as "other".
void CountPerPeer(std::map<std::string, std::uint64_t>& counts, const std::string& peer);

}  // namespace gl::gossip

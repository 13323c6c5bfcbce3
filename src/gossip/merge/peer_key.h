// Who sent a received model, as every refusal counter keys it: "sender_id@host" (the id is
// the sender's claim, the host its connection's), and the capped per-peer count of refusals.
// The engine's cheap checks, MergePolicy and the coordinator's reply screen count the same way.
// Pure functions, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace gl::gossip {

// Peers counted one by one in a refusal map; the rest are summed as "other".
constexpr std::size_t kMaxCountedPeers = 256;

// "sender_id@host" of a peer that sent `sender_id` from "host:port" (common/host_port.h HostOf:
// an IPv6 host without its brackets).
std::string PeerKey(const std::string& sender_id, const std::string& address);

// ++counts[peer]; once kMaxCountedPeers peers are in the map, a new one counts as "other".
void CountPerPeer(std::map<std::string, std::uint64_t>& counts, const std::string& peer);

}  // namespace gl::gossip

#include "gossip/merge/peer_key.h"

#include "common/capped_count.h"
#include "common/host_port.h"

namespace gl::gossip {

std::string PeerKey(const std::string& sender_id, const std::string& address) {
  return sender_id + "@" + HostOf(address);
}

void CountPerPeer(std::map<std::string, std::uint64_t>& counts, const std::string& peer) {
  CountCapped(counts, peer, kMaxCountedPeers);
}

}  // namespace gl::gossip

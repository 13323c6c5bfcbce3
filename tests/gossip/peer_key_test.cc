// Sender keys of refusal counters: "sender_id@host", the host as the connection gave it.
#include "gossip/merge/peer_key.h"

#include <gtest/gtest.h>

namespace gl::gossip {
namespace {

TEST(PeerKeyTest, KeysByTheHostOfTheAddressIpv6WithoutBrackets) {
  EXPECT_EQ(PeerKey("a", "127.0.0.1:7070"), "a@127.0.0.1");
  EXPECT_EQ(PeerKey("a", "[::1]:7070"), "a@::1");
  EXPECT_EQ(PeerKey("a", "[fe80::1%eth0]:7070"), "a@fe80::1%eth0");
  EXPECT_EQ(PeerKey("a", "in-memory-node"), "a@in-memory-node");  // not HOST:PORT: the address is the host
}

}  // namespace
}  // namespace gl::gossip

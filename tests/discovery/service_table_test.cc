// ServiceTable: per-interface resolve/remove results -> one up/down per service.
#include "discovery/service_table.h"

#include <gtest/gtest.h>

namespace gl::discovery {
namespace {

PeerEvent Peer(const std::string& address, const std::string& role = "node") {
  PeerEvent peer;
  peer.kind = PeerEvent::Kind::kUp;
  peer.source = "mdns";
  peer.service_name = "svc";
  peer.id = "b";
  peer.address = address;
  peer.txt = {{"id", "b"}, {"role", role}};
  return peer;
}

TEST(ServiceTableTest, FirstResolveAnnouncesRepeatDoesNot) {
  ServiceTable table;
  const auto up = table.Resolved("svc", 1, Peer("10.0.0.2:7001"));
  ASSERT_TRUE(up);
  EXPECT_EQ(up->kind, PeerEvent::Kind::kUp);
  EXPECT_EQ(up->address, "10.0.0.2:7001");
  EXPECT_FALSE(table.Resolved("svc", 1, Peer("10.0.0.2:7001")));
  EXPECT_EQ(table.announced(), 1u);
}

TEST(ServiceTableTest, ChangedTxtOrAddressIsAnnouncedAgain) {
  ServiceTable table;
  table.Resolved("svc", 1, Peer("10.0.0.2:7001"));
  const auto role = table.Resolved("svc", 1, Peer("10.0.0.2:7001", "coordinator"));
  ASSERT_TRUE(role);
  EXPECT_EQ(role->txt.at("role"), "coordinator");
  const auto moved = table.Resolved("svc", 1, Peer("10.0.0.3:7001", "coordinator"));
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->address, "10.0.0.3:7001");
}

TEST(ServiceTableTest, DownOnlyWhenLastInterfaceGoes) {
  ServiceTable table;
  table.Resolved("svc", 2, Peer("10.0.0.2:7001"));
  EXPECT_FALSE(table.Resolved("svc", 3, Peer("10.0.0.2:7001")));  // same peer on a second interface
  EXPECT_FALSE(table.Removed("svc", 3));
  const auto down = table.Removed("svc", 2);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->kind, PeerEvent::Kind::kDown);
  EXPECT_EQ(down->address, "10.0.0.2:7001");
  EXPECT_EQ(table.announced(), 0u);
  EXPECT_FALSE(table.Removed("svc", 2));  // unknown now
}

TEST(ServiceTableTest, RemainingInterfaceWithOtherAddressTakesOver) {
  ServiceTable table;
  table.Resolved("svc", 2, Peer("10.0.0.2:7001"));  // eth0
  table.Resolved("svc", 3, Peer("192.168.1.2:7001"));  // wlan0
  const auto takeover = table.Removed("svc", 2);
  ASSERT_TRUE(takeover);
  EXPECT_EQ(takeover->kind, PeerEvent::Kind::kUp);
  EXPECT_EQ(takeover->address, "192.168.1.2:7001");
}

TEST(ServiceTableTest, RemovedUnknownServiceIsSilent) {
  ServiceTable table;
  EXPECT_FALSE(table.Removed("filtered", 1));
}

TEST(ServiceTableTest, ClearReturnsDownForEveryAnnouncedService) {
  ServiceTable table;
  table.Resolved("svc", 1, Peer("10.0.0.2:7001"));
  PeerEvent other = Peer("10.0.0.4:7001");
  other.id = "d";
  table.Resolved("svc2", 1, other);
  const auto downs = table.Clear();
  ASSERT_EQ(downs.size(), 2u);
  for (const auto& down : downs) EXPECT_EQ(down.kind, PeerEvent::Kind::kDown);
  EXPECT_EQ(table.announced(), 0u);
  EXPECT_TRUE(table.Clear().empty());
}

}  // namespace
}  // namespace gl::discovery

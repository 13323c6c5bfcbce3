// ServiceTable: per-interface resolve/remove results -> one up/down per service.
#include "discovery/service_table.h"

#include <gtest/gtest.h>

namespace gl::discovery {
namespace {

using std::string_literals::operator""s;  // GCC 12 -Wrestrict false positive on = "literal"

using Kind = PeerEvent::Kind;

PeerEvent Peer(const std::string& address, const std::string& role = "node") {
  PeerEvent peer;
  peer.kind = Kind::kUp;
  peer.source = "mdns"s;
  peer.service_name = "svc"s;
  peer.id = "b"s;
  peer.address = address;
  peer.txt = {{"id", "b"}, {"role", role}};
  return peer;
}

// "up 10.0.0.2:7001,down ..." for compact expectations.
std::string Describe(const std::vector<PeerEvent>& events) {
  std::string text;
  for (const auto& event : events) {
    if (!text.empty()) text += ",";
    text += (event.kind == Kind::kUp ? "up " : "down ") + event.address;
  }
  return text;
}

TEST(ServiceTableTest, FirstResolveAnnouncesRepeatDoesNot) {
  ServiceTable table;
  EXPECT_EQ(Describe(table.Resolved("svc", 1, Peer("10.0.0.2:7001"))), "up 10.0.0.2:7001");
  EXPECT_EQ(Describe(table.Resolved("svc", 1, Peer("10.0.0.2:7001"))), "");
  EXPECT_EQ(table.announced(), 1u);
}

TEST(ServiceTableTest, ChangedTxtIsAnnouncedAgainAsUp) {
  ServiceTable table;
  table.Resolved("svc", 1, Peer("10.0.0.2:7001"));
  const auto events = table.Resolved("svc", 1, Peer("10.0.0.2:7001", "coordinator"));
  ASSERT_EQ(Describe(events), "up 10.0.0.2:7001");
  EXPECT_EQ(events[0].txt.at("role"), "coordinator");
}

TEST(ServiceTableTest, ChangedAddressIsDownOfOldThenUpOfNew) {
  ServiceTable table;
  table.Resolved("svc", 1, Peer("10.0.0.2:7001"));
  EXPECT_EQ(Describe(table.Resolved("svc", 1, Peer("10.0.0.3:7001"))), "down 10.0.0.2:7001,up 10.0.0.3:7001");
  EXPECT_EQ(table.announced(), 1u);
}

TEST(ServiceTableTest, DownOnlyWhenLastInterfaceGoes) {
  ServiceTable table;
  table.Resolved("svc", 2, Peer("10.0.0.2:7001"));
  EXPECT_EQ(Describe(table.Resolved("svc", 3, Peer("10.0.0.2:7001"))), "");  // same peer, second interface
  EXPECT_EQ(Describe(table.Removed("svc", 3)), "");
  EXPECT_EQ(Describe(table.Removed("svc", 2)), "down 10.0.0.2:7001");
  EXPECT_EQ(table.announced(), 0u);
  EXPECT_EQ(Describe(table.Removed("svc", 2)), "");  // unknown now
}

TEST(ServiceTableTest, RemainingInterfaceWithOtherAddressTakesOver) {
  ServiceTable table;
  table.Resolved("svc", 2, Peer("10.0.0.2:7001"));     // eth0
  table.Resolved("svc", 3, Peer("192.168.1.2:7001"));  // wlan0
  EXPECT_EQ(Describe(table.Removed("svc", 2)), "down 10.0.0.2:7001,up 192.168.1.2:7001");
}

TEST(ServiceTableTest, TwoServicesAtOneAddressAreOnePeer) {
  ServiceTable table;
  EXPECT_EQ(Describe(table.Resolved("old name", 1, Peer("10.0.0.2:7001"))), "up 10.0.0.2:7001");
  PeerEvent renamed = Peer("10.0.0.2:7001");
  renamed.service_name = "new name";
  EXPECT_EQ(Describe(table.Resolved("new name", 1, renamed)), "up 10.0.0.2:7001");  // same peer, new name
  EXPECT_EQ(Describe(table.Resolved("new name", 1, renamed)), "");
  EXPECT_EQ(table.announced(), 1u);
  EXPECT_EQ(Describe(table.Removed("old name", 1)), "");  // still announced by "new name"
  EXPECT_EQ(Describe(table.Removed("new name", 1)), "down 10.0.0.2:7001");
  EXPECT_EQ(table.announced(), 0u);
}

TEST(ServiceTableTest, ServiceMovingOntoAnAnnouncedAddressKeepsItUntilBothGo) {
  ServiceTable table;
  table.Resolved("a", 1, Peer("10.0.0.2:7001"));
  table.Resolved("b", 1, Peer("10.0.0.3:7001"));
  EXPECT_EQ(Describe(table.Resolved("b", 1, Peer("10.0.0.2:7001"))), "down 10.0.0.3:7001");
  EXPECT_EQ(Describe(table.Removed("a", 1)), "");
  EXPECT_EQ(Describe(table.Removed("b", 1)), "down 10.0.0.2:7001");
}

TEST(ServiceTableTest, RemovedUnknownServiceIsSilent) {
  ServiceTable table;
  EXPECT_TRUE(table.Removed("filtered", 1).empty());
  table.Resolved("svc", 1, Peer("10.0.0.2:7001"));
  EXPECT_TRUE(table.Removed("svc", 9).empty());  // known service, unknown interface
}

TEST(ServiceTableTest, ClearReturnsDownForEveryAnnouncedService) {
  ServiceTable table;
  table.Resolved("svc", 1, Peer("10.0.0.2:7001"));
  table.Resolved("svc2", 1, Peer("10.0.0.4:7001"));
  EXPECT_EQ(Describe(table.Clear()), "down 10.0.0.2:7001,down 10.0.0.4:7001");
  EXPECT_EQ(table.announced(), 0u);
  EXPECT_TRUE(table.Clear().empty());
}

}  // namespace
}  // namespace gl::discovery

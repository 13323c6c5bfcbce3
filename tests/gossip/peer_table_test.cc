#include "gossip/peer_table.h"

#include <gtest/gtest.h>

#include <map>

namespace gl::gossip {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class PeerTableTest : public ::testing::Test {
 protected:
  PeerTableTest() : table_(PeerTableConfig{3, milliseconds(1000), milliseconds(30000)}) {}

  PeerState StateOf(const std::string& address) { return table_.Find(address)->state; }
  void Fail(const std::string& address, int times) {
    for (int i = 0; i < times; ++i) table_.RecordFailure(address, now_);
  }
  bool Selectable(const std::string& address) {
    for (int i = 0; i < 200; ++i) {
      if (table_.PickGossipTarget(now_, rng_) == address) return true;
    }
    return false;
  }

  PeerTable table_;
  PeerTable::TimePoint now_ = PeerTable::TimePoint{} + seconds(1000);
  std::mt19937_64 rng_{42};
};

TEST_F(PeerTableTest, NewPeerIsAliveAndSelectable) {
  EXPECT_TRUE(table_.Add("a:1", "static", "pi-a", now_));
  EXPECT_FALSE(table_.Add("a:1", "mdns", "", now_));
  EXPECT_EQ(StateOf("a:1"), PeerState::kAlive);
  EXPECT_EQ(table_.Find("a:1")->id, "pi-a");
  EXPECT_EQ(table_.Find("a:1")->sources, (std::set<std::string>{"mdns", "static"}));
  EXPECT_EQ(table_.PickGossipTarget(now_, rng_), "a:1");
}

TEST_F(PeerTableTest, EmptyTableSelectsNobody) { EXPECT_EQ(table_.PickGossipTarget(now_, rng_), std::nullopt); }

TEST_F(PeerTableTest, FirstFailureMakesSuspectUntilRetryIsDue) {
  table_.Add("a:1", "static", "", now_);
  Fail("a:1", 1);
  EXPECT_EQ(StateOf("a:1"), PeerState::kSuspect);
  EXPECT_FALSE(Selectable("a:1"));
  now_ += milliseconds(999);
  EXPECT_FALSE(Selectable("a:1"));
  now_ += milliseconds(1);
  EXPECT_TRUE(Selectable("a:1"));
}

TEST_F(PeerTableTest, DeadAfterConsecutiveFailuresAndNeverSelected) {
  table_.Add("a:1", "static", "", now_);
  Fail("a:1", 2);
  EXPECT_EQ(StateOf("a:1"), PeerState::kSuspect);
  Fail("a:1", 1);
  EXPECT_EQ(StateOf("a:1"), PeerState::kDead);
  EXPECT_EQ(table_.Find("a:1")->failures, 3u);
  now_ += seconds(3600);
  EXPECT_FALSE(Selectable("a:1"));
}

TEST_F(PeerTableTest, SuccessBetweenFailuresResetsTheCount) {
  table_.Add("a:1", "static", "", now_);
  Fail("a:1", 2);
  table_.RecordSuccess("a:1", now_);
  EXPECT_EQ(StateOf("a:1"), PeerState::kAlive);
  Fail("a:1", 2);
  EXPECT_EQ(StateOf("a:1"), PeerState::kSuspect);
  EXPECT_EQ(table_.Find("a:1")->failures, 4u);
}

TEST_F(PeerTableTest, BackoffScheduleDoublesForDeadPeersUpToTheCap) {
  const PeerTableConfig config{3, milliseconds(1000), milliseconds(30000)};
  EXPECT_EQ(RetryBackoff(config, 1), milliseconds(1000));  // suspect
  EXPECT_EQ(RetryBackoff(config, 2), milliseconds(1000));
  EXPECT_EQ(RetryBackoff(config, 3), milliseconds(1000));  // just died
  EXPECT_EQ(RetryBackoff(config, 4), milliseconds(2000));
  EXPECT_EQ(RetryBackoff(config, 5), milliseconds(4000));
  EXPECT_EQ(RetryBackoff(config, 8), milliseconds(30000));  // 32 s capped
  EXPECT_EQ(RetryBackoff(config, 4000000000u), milliseconds(30000));
}

TEST_F(PeerTableTest, DeadPeerIsProbedOnlyWhenItsRetryIsDue) {
  table_.Add("a:1", "static", "", now_);
  Fail("a:1", 4);  // dead, retry in 2 s
  EXPECT_TRUE(table_.DueForProbe(now_ + milliseconds(1999), seconds(1)).empty());
  EXPECT_EQ(table_.DueForProbe(now_ + milliseconds(2000), seconds(1)), std::vector<std::string>{"a:1"});
}

TEST_F(PeerTableTest, AlivePeerIsProbedWhenQuiet) {
  table_.Add("a:1", "static", "", now_);
  EXPECT_EQ(table_.DueForProbe(now_, seconds(1)).size(), 1u);  // never seen
  table_.RecordSuccess("a:1", now_);
  EXPECT_TRUE(table_.DueForProbe(now_ + milliseconds(999), seconds(1)).empty());
  EXPECT_EQ(table_.DueForProbe(now_ + seconds(1), seconds(1)).size(), 1u);
}

TEST_F(PeerTableTest, SuccessReadmitsDeadPeerAndAsksForANewHello) {
  table_.Add("a:1", "static", "", now_);
  table_.RecordHello("a:1", "pi-a", "node");
  Fail("a:1", 3);
  table_.RecordSuccess("a:1", now_);
  EXPECT_EQ(StateOf("a:1"), PeerState::kAlive);
  EXPECT_FALSE(table_.Find("a:1")->handshaken);
  EXPECT_TRUE(Selectable("a:1"));
}

TEST_F(PeerTableTest, FreshMdnsAnnouncementReadmitsDeadPeer) {
  table_.Add("a:1", "mdns", "", now_);
  table_.Add("b:1", "static", "", now_);
  Fail("a:1", 3);
  Fail("b:1", 3);
  table_.Add("a:1", "mdns", "", now_);
  table_.Add("b:1", "static", "", now_);  // a static re-add is no news
  EXPECT_EQ(StateOf("a:1"), PeerState::kAlive);
  EXPECT_EQ(StateOf("b:1"), PeerState::kDead);
}

TEST_F(PeerTableTest, IncompatiblePeerIsNotProbedAndReportedOnceUntilItsRecheck) {
  table_.Add("a:1", "static", "", now_);
  EXPECT_TRUE(table_.MarkIncompatible("a:1", "pi-old", now_));
  EXPECT_FALSE(table_.MarkIncompatible("a:1", "pi-old", now_));
  table_.RecordSuccess("a:1", now_);
  table_.Add("a:1", "mdns", "", now_);
  EXPECT_EQ(StateOf("a:1"), PeerState::kIncompatible);
  EXPECT_FALSE(Selectable("a:1"));
  EXPECT_TRUE(table_.DueForProbe(now_ + seconds(100), seconds(1)).empty());
}

TEST_F(PeerTableTest, IncompatibleVerdictIsRecheckedAfterTheBackoffCap) {
  table_.Add("a:1", "static", "", now_);
  table_.RecordHello("a:1", "pi-a", "node");
  table_.MarkIncompatible("a:1", "pi-a", now_);
  EXPECT_FALSE(table_.Find("a:1")->handshaken);
  now_ += seconds(29);
  EXPECT_FALSE(Selectable("a:1"));
  now_ += seconds(1);
  EXPECT_TRUE(Selectable("a:1"));  // due a new Hello
  table_.RecordFailure("a:1", now_);  // the re-check could not reach it: the next one later
  EXPECT_EQ(StateOf("a:1"), PeerState::kIncompatible);
  EXPECT_FALSE(Selectable("a:1"));
  now_ += seconds(30);
  ASSERT_TRUE(Selectable("a:1"));
  EXPECT_TRUE(table_.RecordHello("a:1", "pi-a", "node"));  // a compatible answer this time
  EXPECT_EQ(StateOf("a:1"), PeerState::kAlive);
  EXPECT_TRUE(table_.Find("a:1")->handshaken);
  EXPECT_TRUE(table_.MarkIncompatible("a:1", "pi-a", now_));  // a new verdict is reported again
}

TEST_F(PeerTableTest, PeerIsForgottenWithItsLastSource) {
  table_.Add("a:1", "static", "", now_);
  table_.Add("a:1", "mdns", "", now_);
  EXPECT_FALSE(table_.Remove("a:1", "mdns"));
  EXPECT_NE(table_.Find("a:1"), nullptr);
  EXPECT_FALSE(table_.Remove("a:1", "mdns"));  // not a source any more
  EXPECT_TRUE(table_.Remove("a:1", "static"));
  EXPECT_EQ(table_.Find("a:1"), nullptr);
  EXPECT_FALSE(table_.Remove("nobody:1", "static"));
}

TEST_F(PeerTableTest, SelectionIsUniformOverLivePeers) {
  const std::vector<std::string> live = {"a:1", "b:1", "c:1", "d:1", "e:1"};
  for (const auto& address : live) table_.Add(address, "static", "", now_);
  table_.Add("dead:1", "static", "", now_);
  Fail("dead:1", 3);
  table_.Add("odd:1", "static", "", now_);
  table_.MarkIncompatible("odd:1", "", now_);

  constexpr int kDraws = 50000;
  std::map<std::string, int> counts;
  for (int i = 0; i < kDraws; ++i) ++counts[*table_.PickGossipTarget(now_, rng_)];
  ASSERT_EQ(counts.size(), live.size());  // never the dead or incompatible peer
  const double expected = static_cast<double>(kDraws) / live.size();
  double chi_square = 0;
  for (const auto& address : live) {
    const double diff = counts[address] - expected;
    chi_square += diff * diff / expected;
  }
  EXPECT_LT(chi_square, 18.47);  // 4 degrees of freedom, p = 0.001
}

}  // namespace
}  // namespace gl::gossip

// Avahi discovery against the shared private avahi-daemon (tools/avahi-test-daemon: own
// D-Bus bus, daemon in a network namespace holding only lo). Skipped with the reason when
// that daemon cannot be started. Each test uses its own cluster name, so tests running in
// parallel on the shared daemon filter each other out.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "discovery/discovery.h"
#include "discovery_test_util.h"

namespace gl::discovery::testing {
namespace {

class AvahiDiscoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string reason = EnsureAvahiTestDaemon();
    if (!reason.empty()) GTEST_SKIP() << "no private avahi-daemon: " << reason;
    cluster_ = UniqueName("c");
  }

  // A started Avahi discovery in this test's cluster, recording into `recorder`.
  std::unique_ptr<Discovery> StartNode(const std::string& id, uint16_t port, EventRecorder& recorder,
                                       Options options = {}) {
    if (options.cluster == Options{}.cluster) options.cluster = cluster_;
    options.node_id = id;
    options.port = port;
    auto discovery = MakeAvahiDiscovery(options);
    EXPECT_TRUE(discovery->Start(recorder.Callback()).ok());
    return discovery;
  }

  // Starts nodes a_ (port) and b_ (port + 1) and waits until a_ has seen b_.
  void StartPair(uint16_t port) {
    a_ = UniqueName("a");
    b_ = UniqueName("b");
    node_a_ = StartNode(a_, port, seen_by_a_);
    node_b_ = StartNode(b_, port + 1, seen_by_b_);
    ASSERT_TRUE(seen_by_a_.WaitForCount(PeerEvent::Kind::kUp, b_, 1, kDeadline));
  }

  std::string cluster_;
  EventRecorder seen_by_a_, seen_by_b_;
  std::string a_, b_;
  std::unique_ptr<Discovery> node_a_, node_b_;
};

TEST_F(AvahiDiscoveryTest, TwoInstancesSeeEachOther) {
  ASSERT_NO_FATAL_FAILURE(StartPair(17001));
  ASSERT_TRUE(seen_by_b_.WaitForCount(PeerEvent::Kind::kUp, a_, 1, kDeadline));
  const PeerEvent peer = seen_by_a_.Last(b_);
  EXPECT_EQ(peer.source, "mdns");
  EXPECT_EQ(peer.address, "127.0.0.1:17002");
  EXPECT_EQ(peer.service_name, "gossip-learner " + b_);
  EXPECT_EQ(peer.txt.at("cluster"), cluster_);
  EXPECT_EQ(peer.txt.at("proto"), "1");
  EXPECT_EQ(peer.txt.at("role"), "node");
  EXPECT_EQ(peer.txt.count("sig"), 1u);
  EXPECT_EQ(seen_by_b_.Last(a_).address, "127.0.0.1:17001");
  EXPECT_EQ(seen_by_a_.Count(PeerEvent::Kind::kUp, a_), 0) << "own service must be skipped";
}

TEST_F(AvahiDiscoveryTest, StopWithdrawsServiceAndOtherSeesDown) {
  ASSERT_NO_FATAL_FAILURE(StartPair(17011));
  node_b_->Stop();
  node_b_->Stop();  // idempotent
  ASSERT_TRUE(seen_by_a_.WaitForCount(PeerEvent::Kind::kDown, b_, 1, kDeadline));
  const PeerEvent down = seen_by_a_.Last(b_);
  EXPECT_EQ(down.kind, PeerEvent::Kind::kDown);
  EXPECT_EQ(down.address, "127.0.0.1:17012");
}

TEST_F(AvahiDiscoveryTest, OtherClusterAndOtherSignatureAreFiltered) {
  EventRecorder seen_by_a, seen_by_probes, ignored;
  const std::string a = UniqueName("a"), far = UniqueName("far"), alien = UniqueName("alien"),
                    late = UniqueName("late");
  Options ours;
  ours.signature_hash = "s1";
  Options other_cluster = ours;
  other_cluster.cluster = cluster_ + "x";
  Options other_signature = ours;
  other_signature.signature_hash = "s2";
  auto node_a = StartNode(a, 17021, seen_by_a, ours);
  auto node_far = StartNode(far, 17022, ignored, other_cluster);
  auto node_alien = StartNode(alien, 17023, ignored, other_signature);
  // Probes that match the filtered nodes prove those are published and resolvable.
  auto probe_far = StartNode(UniqueName("pf"), 17025, seen_by_probes, other_cluster);
  auto probe_alien = StartNode(UniqueName("pa"), 17026, seen_by_probes, other_signature);
  ASSERT_TRUE(seen_by_probes.WaitForCount(PeerEvent::Kind::kUp, far, 1, kDeadline));
  ASSERT_TRUE(seen_by_probes.WaitForCount(PeerEvent::Kind::kUp, alien, 1, kDeadline));
  // Control: a matching node published only now (~1 s of probing) is seen by a; a had
  // resolved (and skipped) the filtered ones as soon as they were announced, earlier.
  auto node_late = StartNode(late, 17024, ignored, ours);
  ASSERT_TRUE(seen_by_a.WaitForCount(PeerEvent::Kind::kUp, late, 1, kDeadline));
  EXPECT_EQ(seen_by_a.Count(PeerEvent::Kind::kUp, far), 0);
  EXPECT_EQ(seen_by_a.Count(PeerEvent::Kind::kUp, alien), 0);
}

TEST_F(AvahiDiscoveryTest, SameServiceNameTwiceIsRenamedAndBothVisible) {
  EventRecorder seen_by_a, seen_by_b, seen_by_c;
  const std::string a = UniqueName("a"), b = UniqueName("b"), c = UniqueName("c");
  Options same_name;
  same_name.service_name = UniqueName("dup");
  auto node_a = StartNode(a, 17031, seen_by_a, same_name);
  auto node_b = StartNode(b, 17032, seen_by_b, same_name);
  auto node_c = StartNode(c, 17033, seen_by_c);
  ASSERT_TRUE(seen_by_c.WaitForCount(PeerEvent::Kind::kUp, a, 1, kDeadline));
  ASSERT_TRUE(seen_by_c.WaitForCount(PeerEvent::Kind::kUp, b, 1, kDeadline));
  const std::string name_a = seen_by_c.Last(a).service_name, name_b = seen_by_c.Last(b).service_name;
  EXPECT_NE(name_a, name_b);
  EXPECT_TRUE(name_a == same_name.service_name || name_b == same_name.service_name) << name_a << " / " << name_b;
  EXPECT_TRUE(name_a == same_name.service_name + " #2" || name_b == same_name.service_name + " #2")
      << name_a << " / " << name_b;
  EXPECT_EQ(seen_by_c.Last(a).address, "127.0.0.1:17031");
  EXPECT_EQ(seen_by_c.Last(b).address, "127.0.0.1:17032");
}

}  // namespace
}  // namespace gl::discovery::testing

// Engines on real TcpTransports over loopback: the path the node runs in production.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "gossip/engine.h"
#include "gossip/tcp_transport.h"

namespace gl::gossip {
namespace {

using std::chrono::milliseconds;

class CountingStore : public ModelStore {
 public:
  explicit CountingStore(float value) : model_{"gru-v1", std::vector<float>(1000, value), 1, 10} {}
  ModelSnapshot Snapshot() override { return model_; }
  void Offer(ModelSnapshot remote) override {
    ++offers_;
    MergeInto(model_, remote, MergeRule::kAgeWeighted);
  }
  float first() const { return model_.params.front(); }
  int offers() const { return offers_; }

 private:
  ModelSnapshot model_;
  int offers_ = 0;
};

struct TcpNode {
  std::unique_ptr<TcpTransport> transport;
  std::unique_ptr<CountingStore> store;
  std::unique_ptr<Engine> engine;
};

class EngineTcpTest : public ::testing::Test {
 protected:
  ~EngineTcpTest() override {
    for (TcpNode& node : nodes_) node.engine->Stop();
  }

  void AddNode(Options options, float value) {
    auto transport = TcpTransport::Create(io_, "127.0.0.1:0", TcpOptions::From(options));
    ASSERT_TRUE(transport.ok()) << transport.status().ToString();
    TcpNode node{std::move(transport).value(), std::make_unique<CountingStore>(value), nullptr};
    node.engine = std::make_unique<Engine>(io_, std::move(options), *node.transport, *node.store);
    nodes_.push_back(std::move(node));
  }

  void StartFullMesh() {
    for (TcpNode& node : nodes_) {
      for (const TcpNode& other : nodes_) {
        if (&other != &node) node.engine->AddPeer(other.transport->LocalAddress(), "static");
      }
      ASSERT_TRUE(node.engine->Start().ok());
    }
  }

  bool RunUntil(const std::function<bool()>& done, milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= end) return false;
      io_.run_for(milliseconds(10));
    }
    return true;
  }

  std::string StateOf(const Engine& observer, const std::string& address) const {
    for (const PeerStatus& peer : observer.Peers()) {
      if (peer.address == address) return peer.state;
    }
    return "unknown";
  }

  asio::io_context io_;
  std::vector<TcpNode> nodes_;
};

TEST_F(EngineTcpTest, ThreeNodesConvergeOverLoopback) {
  for (int i = 0; i < 3; ++i) {
    Options options = DefaultLocalOptions();
    options.node_id = "tcp" + std::to_string(i);
    options.gossip_interval = milliseconds(30);
    AddNode(options, static_cast<float>(i * 100));
  }
  StartFullMesh();
  auto spread = [&] {
    float low = INFINITY, high = -INFINITY;
    for (const TcpNode& node : nodes_) {
      low = std::min(low, node.store->first());
      high = std::max(high, node.store->first());
    }
    return high - low;
  };
  EXPECT_TRUE(RunUntil([&] { return spread() < 0.01f; }, milliseconds(10000))) << "spread " << spread();
  for (const TcpNode& node : nodes_) {
    EXPECT_GT(node.store->offers(), 0);
    EXPECT_GT(node.engine->Stats().bytes_received, 4000u);
    EXPECT_EQ(node.engine->Stats().frames_rejected, 0u);
  }
}

// With the LAN defaults (probe every 1 s, dead after 3 failures) a peer whose port refuses
// connections, as after a SIGKILL, must be declared dead within about 3-4 s.
TEST_F(EngineTcpTest, KilledPeerIsDeadWithinFourSecondsOnLanDefaults) {
  Options observer = DefaultLanOptions();
  observer.node_id = "observer";
  AddNode(observer, 1.0f);
  Options victim = DefaultLanOptions();
  victim.node_id = "victim";
  victim.gossip_interval = milliseconds(0);
  AddNode(victim, 2.0f);
  StartFullMesh();
  const std::string victim_address = nodes_[1].transport->LocalAddress();
  ASSERT_TRUE(RunUntil([&] { return nodes_[0].engine->Peers().at(0).last_seen_s >= 0; }, milliseconds(3000)));

  nodes_[1].engine->Stop();  // closes its listener: connections are refused from now on
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunUntil([&] { return StateOf(*nodes_[0].engine, victim_address) == "dead"; }, milliseconds(6000)));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  EXPECT_LE(seconds, 4.5);
  RecordProperty("seconds_to_dead", std::to_string(seconds));
  std::printf("declared dead %.2f s after the kill\n", seconds);
}

}  // namespace
}  // namespace gl::gossip

// Engines on real TcpTransports over loopback: the path the node runs in production.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "cluster_util.h"
#include "common/host_port.h"
#include "gossip/wire/codec.h"
#include "gossip/wire/tcp_transport.h"

namespace gl::gossip {
namespace {

using std::chrono::milliseconds;

class EngineTcpTest : public ::testing::Test {
 protected:
  ~EngineTcpTest() override {
    for (TestNode& node : nodes_) node.engine->Stop();
  }

  void AddNode(Options options, float value) {
    auto transport = TcpTransport::Create(io_, "127.0.0.1:0", TransportOptions(options));
    ASSERT_TRUE(transport.ok()) << transport.status().ToString();
    TestNode node;
    node.address = (*transport)->LocalAddress();
    node.transport = std::move(transport).value();
    node.store = std::make_unique<MergingStore>(ModelSnapshot{"gru-v1", std::vector<float>(1000, value), 1, 10});
    node.engine = std::make_unique<Engine>(io_, std::move(options), *node.transport, *node.store);
    nodes_.push_back(std::move(node));
  }

  float Spread() const {
    float low = INFINITY, high = -INFINITY;
    for (const TestNode& node : nodes_) {
      low = std::min(low, node.store->model().params.front());
      high = std::max(high, node.store->model().params.front());
    }
    return high - low;
  }

  asio::io_context io_;
  std::vector<TestNode> nodes_;
};

TEST_F(EngineTcpTest, ThreeNodesConvergeOverLoopback) {
  for (int i = 0; i < 3; ++i) {
    Options options = DefaultLocalOptions();
    options.node_id = "tcp" + std::to_string(i);
    options.gossip_interval = milliseconds(30);
    // 0, 0.1, 0.3 (models 3-9 apart): no two average to the third.
    AddNode(options, static_cast<float>(i * i + i) * 0.05f);
  }
  StartFullMesh(nodes_);
  EXPECT_TRUE(RunUntil(io_, [&] { return Spread() < 1e-4f; }, milliseconds(10000))) << "spread " << Spread();
  for (const TestNode& node : nodes_) {
    EXPECT_FALSE(node.store->offered_signatures().empty());
    // At least one model arrived: 1,000 values are ~1.1 KB in int8, and int8 models can agree
    // within 1e-4 after two or three exchanges.
    EXPECT_GT(node.engine->Stats().bytes_received, 1000u);
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
  StartFullMesh(nodes_);
  const Engine& watcher = *nodes_[0].engine;
  ASSERT_TRUE(RunUntil(io_, [&] { return watcher.Peers().at(0).last_seen_s >= 0; }, milliseconds(3000)));

  nodes_[1].engine->Stop();  // closes its listener: connections are refused from now on
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunUntil(io_, [&] { return StateSeenBy(watcher, nodes_[1].address) == "dead"; }, milliseconds(6000)));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  EXPECT_LE(seconds, 4.5);
  std::printf("declared dead %.2f s after the kill\n", seconds);
}

// Well-framed garbage of every request type reaches the engine: it answers Error, the
// connection closes, and the node goes on gossiping.
TEST_F(EngineTcpTest, GarbageBodiesAreAnsweredWithErrorAndGossipGoesOn) {
  for (int i = 0; i < 2; ++i) {
    Options options = DefaultLocalOptions();
    options.node_id = "g" + std::to_string(i);
    options.gossip_interval = milliseconds(30);
    AddNode(options, static_cast<float>(i));
  }
  StartFullMesh(nodes_);
  const HostPort address = ParseHostPort(nodes_[0].address).value();
  const asio::ip::tcp::endpoint target(asio::ip::make_address(address.host), address.port);
  const std::vector<std::uint8_t> garbage = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3};
  int answered = 0;
  for (MessageType type : {MessageType::kHello, MessageType::kExchangeRequest, MessageType::kPing}) {
    asio::ip::tcp::socket raw(io_);
    raw.connect(target);
    asio::write(raw, asio::buffer(EncodeFrame(Frame{type, garbage})));
    std::vector<std::uint8_t> received;
    std::array<std::uint8_t, 256> chunk{};
    bool closed = false;
    raw.async_read_some(asio::buffer(chunk), [&](std::error_code ec, std::size_t n) {
      received.insert(received.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
      closed = static_cast<bool>(ec);
    });
    ASSERT_TRUE(RunUntil(io_, [&] { return !received.empty() || closed; }, milliseconds(2000)));
    Result<FrameHeader> header = ParseHeader(received, 1024);
    ASSERT_TRUE(header.ok()) << header.status().ToString();
    EXPECT_EQ(header->type, MessageType::kError);
    ++answered;
  }
  EXPECT_EQ(answered, 3);
  EXPECT_EQ(nodes_[0].engine->Stats().frames_rejected, 3u);
  const std::uint64_t before = nodes_[0].engine->Stats().exchanges_ok;
  EXPECT_TRUE(RunUntil(io_, [&] { return nodes_[0].engine->Stats().exchanges_ok >= before + 3; }, milliseconds(3000)));
}

}  // namespace
}  // namespace gl::gossip

// Engine tests on InMemoryNetwork: whole clusters in one process, on one io_context.
#include "gossip/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "gossip/wire/codec.h"
#include "gossip/wire/in_memory_transport.h"
#include "cluster_util.h"

namespace gl::gossip {
namespace {

using std::chrono::milliseconds;

class EngineClusterTest : public ::testing::Test {
 protected:
  static constexpr std::size_t kParams = 64;

  EngineClusterTest() { nodes_.reserve(16); }  // AddNode hands out references into nodes_
  ~EngineClusterTest() override {
    for (TestNode& node : nodes_) node.engine->Stop();
  }

  static Options FastOptions(const std::string& id) {
    Options options = DefaultLocalOptions();
    options.node_id = id;
    options.gossip_interval = milliseconds(20);  // the rest as DefaultLocalOptions
    options.probe_interval = milliseconds(20);
    return options;
  }

  static std::vector<float> RandomParams(unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);  // models ~11 apart, as trained peers are
    std::vector<float> params(kParams);
    for (float& p : params) p = normal(rng);
    return params;
  }

  TestNode& AddNode(const std::string& signature, std::vector<float> params, Options options) {
    TestNode node;
    node.address = "10.0.0." + std::to_string(nodes_.size() + 1) + ":7070";
    node.transport = network_.NewTransport(node.address);
    node.store = std::make_unique<MergingStore>(ModelSnapshot{signature, std::move(params), 1, 100});
    node.engine = std::make_unique<Engine>(io_, std::move(options), *node.transport, *node.store);
    nodes_.push_back(std::move(node));
    return nodes_.back();
  }

  TestNode& AddNode(const std::string& signature, std::vector<float> params) {
    return AddNode(signature, std::move(params), FastOptions("n" + std::to_string(nodes_.size() + 1)));
  }

  void StartFullMesh() { gossip::StartFullMesh(nodes_); }
  bool RunUntil(const std::function<bool()>& done, milliseconds deadline) {
    return gossip::RunUntil(io_, done, deadline);
  }

  static std::string StateSeenBy(const TestNode& observer, const TestNode& peer) {
    return gossip::StateSeenBy(*observer.engine, peer.address);
  }

  bool AllSee(const TestNode& peer, const std::string& state) const {
    for (const TestNode& node : nodes_) {
      if (&node != &peer && StateSeenBy(node, peer) != state) return false;
    }
    return true;
  }

  double MaxPairwiseDistance() const {
    double max_distance = 0;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      for (std::size_t j = i + 1; j < nodes_.size(); ++j) {
        double sum = 0;
        for (std::size_t k = 0; k < kParams; ++k) {
          const double d = nodes_[i].store->model().params[k] - nodes_[j].store->model().params[k];
          sum += d * d;
        }
        max_distance = std::max(max_distance, std::sqrt(sum));
      }
    }
    return max_distance;
  }

  asio::io_context io_;
  InMemoryNetwork network_{io_};
  std::vector<TestNode> nodes_;
};

TEST_F(EngineClusterTest, SixNodesConvergeToOneModel) {
  for (unsigned i = 0; i < 6; ++i) AddNode("gru-v1", RandomParams(i));
  StartFullMesh();
  const double initial = MaxPairwiseDistance();
  ASSERT_GT(initial, 5.0);
  EXPECT_TRUE(RunUntil([&] { return MaxPairwiseDistance() < initial / 1000; }, milliseconds(10000)))
      << "max pairwise L2 distance went from " << initial << " to " << MaxPairwiseDistance();
  for (const TestNode& node : nodes_) {
    const EngineStats stats = node.engine->Stats();
    EXPECT_GT(stats.exchanges_ok, 0u);
    EXPECT_EQ(stats.rejected_updates, 0u);
    EXPECT_EQ(stats.frames_rejected, 0u);
    EXPECT_GT(stats.bytes_sent, kParams * sizeof(float));
  }
}

TEST_F(EngineClusterTest, CrashedNodeIsDeclaredDeadThenReadmitted) {
  for (unsigned i = 0; i < 4; ++i) AddNode("gru-v1", RandomParams(i));
  StartFullMesh();
  TestNode& victim = nodes_[3];
  ASSERT_TRUE(RunUntil([&] { return AllSee(victim, "alive") && nodes_[0].engine->Stats().exchanges_ok > 0; },
                       milliseconds(3000)));
  network_.Crash(victim.address);
  EXPECT_TRUE(RunUntil([&] { return AllSee(victim, "dead"); }, milliseconds(3000)));
  for (const TestNode& node : nodes_) {
    for (const TestNode& other : nodes_) {
      if (&node != &other && &node != &victim && &other != &victim) {
        EXPECT_NE(StateSeenBy(node, other), "dead");
      }
    }
  }
  const std::uint64_t failed_before = nodes_[0].engine->Stats().exchanges_failed;
  network_.Revive(victim.address);
  EXPECT_TRUE(RunUntil([&] { return AllSee(victim, "alive"); }, milliseconds(3000)));
  // Dead peers are not chosen for exchanges, so failed exchanges stop growing fast.
  EXPECT_LE(nodes_[0].engine->Stats().exchanges_failed - failed_before, 10u);
}

TEST_F(EngineClusterTest, IncompatiblePeerIsNeverMerged) {
  for (unsigned i = 0; i < 3; ++i) AddNode("gru-v1", RandomParams(i));
  TestNode& odd = AddNode("gru-v2", RandomParams(9));
  StartFullMesh();
  EXPECT_TRUE(RunUntil([&] { return AllSee(odd, "incompatible"); }, milliseconds(3000)));
  EXPECT_TRUE(RunUntil([&] { return nodes_[0].engine->Stats().exchanges_ok >= 5; }, milliseconds(3000)));
  for (const TestNode& node : nodes_) {
    const std::string own = node.store->model().signature;
    for (const std::string& offered : node.store->offered_signatures()) EXPECT_EQ(offered, own);
  }
  EXPECT_TRUE(odd.store->offered_signatures().empty());
  // The odd node learns each signature from a Hello of its own, which may come later.
  EXPECT_TRUE(RunUntil(
      [&] {
        return std::all_of(nodes_.begin(), nodes_.end(), [&](const TestNode& node) {
          return &node == &odd || StateSeenBy(odd, node) == "incompatible";
        });
      },
      milliseconds(3000)));
}

TEST_F(EngineClusterTest, ForgedHelloNamingAnHonestPeerChangesNothing) {
  TestNode& a = AddNode("gru-v1", RandomParams(1));
  TestNode& b = AddNode("gru-v1", RandomParams(2));
  StartFullMesh();
  ASSERT_TRUE(RunUntil([&] { return a.engine->Stats().exchanges_ok >= 2; }, milliseconds(3000)));
  // One Hello with another model's signature to each node, each naming the other as its sender.
  std::unique_ptr<Transport> forger = network_.NewTransport("10.0.0.66:1");
  int answered = 0;
  for (auto [to, named] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
    forger->Request(to->address, EncodeMessage(Hello{"forger", kProtocolVersion, "gru-v9", "node", named->address}),
                    milliseconds(500), [&](Status status, Frame) { answered += status.ok(); });
  }
  ASSERT_TRUE(RunUntil([&] { return answered == 2; }, milliseconds(2000)));
  const std::uint64_t before = a.engine->Stats().exchanges_ok + b.engine->Stats().exchanges_ok;
  EXPECT_TRUE(RunUntil([&] { return a.engine->Stats().exchanges_ok + b.engine->Stats().exchanges_ok >= before + 10; },
                       milliseconds(3000)));
  EXPECT_EQ(StateSeenBy(a, b), "alive");
  EXPECT_EQ(StateSeenBy(b, a), "alive");
  EXPECT_EQ(a.engine->Peers().size(), 1u);  // the forger's claims added nobody
}

TEST_F(EngineClusterTest, IncompatiblePeerIsMergedOnceItComesBackCompatible) {
  AddNode("gru-v1", RandomParams(1));
  AddNode("gru-v1", RandomParams(2));
  AddNode("gru-v2", RandomParams(9));
  StartFullMesh();
  ASSERT_TRUE(RunUntil([&] { return AllSee(nodes_[2], "incompatible"); }, milliseconds(3000)));
  // It restarts at the same address with the cluster's model.
  TestNode& odd = nodes_[2];
  odd.engine->Stop();
  odd.engine.reset();
  odd.transport.reset();
  odd.transport = network_.NewTransport(odd.address);
  odd.store = std::make_unique<MergingStore>(ModelSnapshot{"gru-v1", RandomParams(9), 1, 100});
  odd.engine = std::make_unique<Engine>(io_, FastOptions("n3"), *odd.transport, *odd.store);
  for (const TestNode& other : nodes_) {
    if (&other != &odd) odd.engine->AddPeer(other.address, "static");
  }
  ASSERT_TRUE(odd.engine->Start().ok());
  auto exchanges_with = [&](const TestNode& from, const TestNode& peer) {
    for (const PeerStatus& status : from.engine->Peers()) {
      if (status.address == peer.address) return status.exchanges;
    }
    return std::uint64_t{0};
  };
  EXPECT_TRUE(RunUntil([&] { return exchanges_with(nodes_[0], odd) > 0 && exchanges_with(nodes_[1], odd) > 0; },
                       milliseconds(6000)))
      << "state seen by n1: " << StateSeenBy(nodes_[0], odd);
  EXPECT_TRUE(AllSee(odd, "alive"));
}

TEST_F(EngineClusterTest, NonFiniteModelIsRejected) {
  AddNode("gru-v1", RandomParams(1));
  AddNode("gru-v1", RandomParams(2));
  std::vector<float> poisoned = RandomParams(3);
  poisoned[5] = std::numeric_limits<float>::quiet_NaN();
  AddNode("gru-v1", poisoned);
  StartFullMesh();
  EXPECT_TRUE(RunUntil(
      [&] { return nodes_[0].engine->Stats().rejected_updates > 0 && nodes_[1].engine->Stats().rejected_updates > 0; },
      milliseconds(3000)));
  for (int i = 0; i < 2; ++i) {
    for (float p : nodes_[i].store->model().params) ASSERT_TRUE(std::isfinite(p));
  }
}

TEST_F(EngineClusterTest, ZeroGossipIntervalOnlyAnswers) {
  Options passive = FastOptions("passive");
  passive.gossip_interval = milliseconds(0);
  TestNode& quiet = AddNode("gru-v1", RandomParams(1), passive);
  TestNode& active = AddNode("gru-v1", RandomParams(2));
  StartFullMesh();
  ASSERT_TRUE(RunUntil([&] { return active.engine->Stats().exchanges_ok >= 3; }, milliseconds(3000)));
  EXPECT_EQ(quiet.engine->Peers().at(0).exchanges, 0u);
  EXPECT_GE(active.engine->Peers().at(0).exchanges, 3u);
  EXPECT_GE(quiet.engine->Stats().exchanges_ok, 3u);  // answered ones count
}

TEST_F(EngineClusterTest, StopIsIdempotentAndEndsAllModelTraffic) {
  AddNode("gru-v1", RandomParams(1));
  AddNode("gru-v1", RandomParams(2));
  StartFullMesh();
  ASSERT_TRUE(RunUntil([&] { return nodes_[0].engine->Stats().exchanges_ok >= 2; }, milliseconds(3000)));
  nodes_[0].engine->Stop();
  nodes_[0].engine->Stop();
  const std::size_t offers = nodes_[0].store->offered_signatures().size();
  EXPECT_TRUE(RunUntil([&] { return StateSeenBy(nodes_[1], nodes_[0]) == "dead"; }, milliseconds(3000)));
  EXPECT_EQ(nodes_[0].store->offered_signatures().size(), offers);
}

TEST_F(EngineClusterTest, InvalidOptionsAreRefusedAtStart) {
  Options options = FastOptions("bad");
  options.gossip_jitter = 2.0;
  TestNode& node = AddNode("gru-v1", RandomParams(1), options);
  const Status status = node.engine->Start();
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(status.message().find("gossip_jitter"), std::string::npos);
}

class EngineRequestTest : public EngineClusterTest {
 protected:
  void SetUp() override {
    AddNode("gru-v1", RandomParams(1));
    ASSERT_TRUE(nodes_[0].engine->Start().ok());
    client_ = network_.NewTransport("10.0.0.99:1");
  }
  // Sends `request` to the node and returns its reply.
  Frame Ask(Frame request) {
    std::optional<Frame> reply;
    client_->Request(nodes_[0].address, std::move(request), milliseconds(500), [&](Status status, Frame frame) {
      EXPECT_TRUE(status.ok()) << status.ToString();
      reply = std::move(frame);
    });
    EXPECT_TRUE(RunUntil([&] { return reply.has_value(); }, milliseconds(2000)));
    return reply.value_or(Frame{});
  }
  std::unique_ptr<Transport> client_;
};

TEST_F(EngineRequestTest, MalformedBodyGetsAnErrorReply) {
  const Frame reply = Ask(Frame{MessageType::kExchangeRequest, {1, 2, 3}});
  EXPECT_EQ(reply.type, MessageType::kError);
  EXPECT_EQ(nodes_[0].engine->Stats().frames_rejected, 1u);
  EXPECT_TRUE(nodes_[0].store->offered_signatures().empty());
}

TEST_F(EngineRequestTest, WrongModelGetsAnErrorAndIsNotOffered) {
  ExchangeRequest request{"intruder", ModelSnapshot{"gru-v1", std::vector<float>(kParams + 1, 0.0f), 1, 1}};
  const Frame reply = Ask(EncodeMessage(request));
  ASSERT_EQ(reply.type, MessageType::kError);
  EXPECT_NE(DecodeMessage<Error>(reply)->reason.find("parameters"), std::string::npos);
  EXPECT_EQ(nodes_[0].engine->Stats().rejected_updates, 1u);
  EXPECT_TRUE(nodes_[0].store->offered_signatures().empty());
}

TEST_F(EngineRequestTest, ValidExchangeIsAnsweredWithTheLocalModel) {
  ExchangeRequest request{"friend", ModelSnapshot{"gru-v1", std::vector<float>(kParams, 0.0f), 1, 1}};
  const std::vector<float> before = nodes_[0].store->model().params;
  const Frame reply = Ask(EncodeMessage(request));
  Result<ExchangeReply> decoded = DecodeMessage<ExchangeReply>(reply);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->sender_id, "n1");
  EXPECT_EQ(decoded->model.params, before);
  EXPECT_EQ(nodes_[0].store->offered_signatures().size(), 1u);
  EXPECT_EQ(nodes_[0].store->offered_senders(), std::vector<std::string>{"friend@10.0.0.99"});
}

// The engine judges no distance: a finite model of the right shape, however far, is offered
// (the node's MergePolicy refuses it on the training thread), and the io thread copies the
// local model only to send it.
TEST_F(EngineRequestTest, AFarModelIsOfferedAndTheLocalModelIsCopiedOnlyForTheReply) {
  ExchangeRequest request{"far", ModelSnapshot{"gru-v1", std::vector<float>(kParams, 1e30f), 1, 1}};
  const int copies_before = nodes_[0].store->snapshots();
  Result<ExchangeReply> decoded = DecodeMessage<ExchangeReply>(Ask(EncodeMessage(request)));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(nodes_[0].store->snapshots(), copies_before + 1);
  EXPECT_EQ(nodes_[0].store->offered_senders(), std::vector<std::string>{"far@10.0.0.99"});
  EXPECT_EQ(nodes_[0].engine->Stats().rejected_updates, 0u);
}

TEST_F(EngineRequestTest, PingIsAnsweredWithPong) {
  Result<Pong> pong = DecodeMessage<Pong>(Ask(EncodeMessage(Ping{"x"})));
  ASSERT_TRUE(pong.ok());
  EXPECT_EQ(pong->node_id, "n1");
}

TEST_F(EngineRequestTest, HelloIsAnsweredWithOurHello) {
  Result<Hello> hello = DecodeMessage<Hello>(Ask(EncodeMessage(Hello{"x", kProtocolVersion, "gru-v1", "node", ""})));
  ASSERT_TRUE(hello.ok());
  EXPECT_EQ(hello->node_id, "n1");
  EXPECT_EQ(hello->signature, "gru-v1");
  EXPECT_EQ(hello->listen_address, nodes_[0].address);
}

TEST_F(EngineRequestTest, ReplyTypeAsRequestIsAnError) {
  EXPECT_EQ(Ask(EncodeMessage(Pong{"x"})).type, MessageType::kError);
}

}  // namespace
}  // namespace gl::gossip

// Flow control on InMemoryNetwork in virtual time: a Push carries one model and its PushAck
// none; peers that do not accept pushes (an option, or an older build that refuses a Hello
// with features) get push-pull exchanges and keep their codec; the token account sends at
// most one model per interval and passes a received model on a tenth of an interval later;
// a stretched interval starts fewer transfers; the upload budget holds pushes back; a malformed Push is refused and counted like a bad
// ExchangeRequest.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <optional>

#include "cluster_util.h"
#include "gossip/wire/codec.h"
#include "gossip/wire/in_memory_transport.h"
#include "hello_without_codecs.h"

namespace gl::gossip {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::size_t kParams = 5000;

std::vector<float> Params(float base) {
  std::vector<float> params(kParams);
  for (std::size_t i = 0; i < kParams; ++i) params[i] = base + 0.001f * static_cast<float>(i % 97);
  return params;
}

class FlowControlTest : public ::testing::Test {
 protected:
  FlowControlTest() { nodes_.reserve(16); }  // AddNode hands out references into nodes_
  ~FlowControlTest() override {
    for (TestNode& node : nodes_) node.engine->Stop();
  }

  static Options NodeOptions(const std::string& id, FlowControl flow, milliseconds interval) {
    Options options = DefaultLanOptions();  // 1 s probes
    options.node_id = id;
    options.flow = flow;
    options.gossip_interval = interval;
    options.gossip_jitter = 0;  // so the number of gossip ticks in a span is known
    options.max_frame_bytes = MaxBodyBytesForModel(kParams);
    return options;
  }

  TestNode& AddNode(Options options, float base) {
    TestNode node;
    node.address = "10.0.0." + std::to_string(nodes_.size() + 1) + ":7070";
    node.transport = network_.NewTransport(node.address);
    node.store = std::make_unique<MergingStore>(ModelSnapshot{"sig", Params(base), 1, 100});
    node.engine = std::make_unique<Engine>(io_, std::move(options), *node.transport, *node.store);
    nodes_.push_back(std::move(node));
    return nodes_.back();
  }

  // Moves the virtual time on by `span` in 10 ms steps, serving everything due at each.
  void RunFor(Clock::duration span) {
    const Clock::time_point end = Clock::now() + span;
    while (Clock::now() < end) {
      time_.AdvanceTo(Clock::now() + milliseconds(10));
      io_.poll();
    }
  }
  bool RunUntil(const std::function<bool()>& done, Clock::duration deadline) {
    const Clock::time_point end = Clock::now() + deadline;
    while (!done()) {
      if (Clock::now() >= end) return false;
      time_.AdvanceTo(Clock::now() + milliseconds(10));
      io_.poll();
    }
    return true;
  }

  // Sends `request` from a transport of its own; the reply, once it came.
  Frame Ask(Transport& from, const std::string& to, Frame request) {
    std::optional<Frame> reply;
    from.Request(to, std::move(request), milliseconds(1000), [&](Status status, Frame frame) {
      EXPECT_TRUE(status.ok()) << status.ToString();
      reply = std::move(frame);
    });
    EXPECT_TRUE(RunUntil([&] { return reply.has_value(); }, seconds(2)));
    return reply.value_or(Frame{});
  }

  VirtualTime time_{Clock::time_point{} + std::chrono::hours(1)};
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  InMemoryNetwork network_{io_};
  std::vector<TestNode> nodes_;
};

TEST_F(FlowControlTest, APushCarriesOneModelAndItsAckNone) {
  Options pusher_options = NodeOptions("pusher", FlowControl::kPush, seconds(1));
  pusher_options.codecs = {ModelCodec::kFp32};  // exact sizes: 4 bytes per value
  TestNode& pusher = AddNode(pusher_options, 1.0f);
  TestNode& receiver = AddNode(NodeOptions("receiver", FlowControl::kPushPull, milliseconds(0)), 2.0f);
  pusher.engine->AddPeer(receiver.address, "static");
  ASSERT_TRUE(pusher.engine->Start().ok());
  ASSERT_TRUE(receiver.engine->Start().ok());
  RunFor(seconds(20));

  const EngineStats sent = pusher.engine->Stats();
  const EngineStats answered = receiver.engine->Stats();
  EXPECT_GE(sent.pushes_sent, 19u);
  EXPECT_LE(sent.pushes_sent, 21u);
  EXPECT_EQ(sent.exchanges_ok, sent.pushes_sent);
  EXPECT_EQ(sent.exchanges_failed, 0u);
  EXPECT_EQ(answered.exchanges_ok, sent.pushes_sent);
  // Every push was offered to the receiver, and nothing came back to the pusher.
  EXPECT_EQ(receiver.store->offered_senders().size(), sent.pushes_sent);
  EXPECT_TRUE(pusher.store->offered_senders().empty());
  EXPECT_NE(receiver.store->model().params, Params(2.0f)) << "the pushed models were not merged";
  // Bytes: the pusher sent one model per push (plus a Hello and a few probes); the receiver
  // sent acks, a Hello and pongs: all of it less than one model.
  const double model_bytes = kParams * sizeof(float);
  const double per_push = static_cast<double>(sent.bytes_sent) / static_cast<double>(sent.pushes_sent);
  EXPECT_GT(per_push, model_bytes);
  EXPECT_LT(per_push, 1.02 * model_bytes);
  EXPECT_LT(static_cast<double>(answered.bytes_sent), model_bytes / 4);
  EXPECT_EQ(answered.bytes_sent, sent.bytes_received);
  EXPECT_EQ(pusher.engine->Peers().front().flow, "push");
}

TEST_F(FlowControlTest, APeerThatDoesNotAcceptPushesGetsPushPullExchanges) {
  TestNode& pusher = AddNode(NodeOptions("pusher", FlowControl::kPush, seconds(1)), 1.0f);
  Options older = NodeOptions("older", FlowControl::kPushPull, milliseconds(0));
  older.accept_pushes = false;
  TestNode& peer = AddNode(older, 2.0f);
  pusher.engine->AddPeer(peer.address, "static");
  ASSERT_TRUE(pusher.engine->Start().ok());
  ASSERT_TRUE(peer.engine->Start().ok());
  RunFor(seconds(10));

  const EngineStats stats = pusher.engine->Stats();
  EXPECT_EQ(stats.pushes_sent, 0u);
  EXPECT_GE(stats.exchanges_ok, 9u);
  EXPECT_EQ(stats.exchanges_failed, 0u);
  EXPECT_EQ(pusher.store->offered_senders().size(), stats.exchanges_ok);  // a model came back each time
  EXPECT_EQ(peer.store->offered_senders().size(), stats.exchanges_ok);
  EXPECT_EQ(peer.engine->Stats().frames_rejected, 0u);
  EXPECT_EQ(pusher.engine->Peers().front().flow, "push-pull");
}

// A build that knows codecs but not pushes refuses the Hello with features (Error) and would
// close the connection on a Push: the node says Hello again with codecs only, keeps int8 and
// sends ExchangeRequests.
TEST_F(FlowControlTest, AnOlderBuildThatRefusesHelloFeaturesGetsExchangesInItsCodec) {
  TestNode& pusher = AddNode(NodeOptions("pusher", FlowControl::kTokenAccount, seconds(1)), 1.0f);
  auto older = network_.NewTransport("10.0.0.99:7070");
  int hellos_refused = 0, hellos_read = 0, int8_exchanges = 0, other = 0;
  older->Listen([&](const std::string&, Frame request, Transport::Respond respond) {
    if (request.type == MessageType::kHello) {
      Result<HelloBeforePush> hello = DecodeMessage<HelloBeforePush>(request);
      if (!hello.ok()) {
        ++hellos_refused;
        return respond(EncodeMessage(Error{hello.status().message()}));
      }
      ++hellos_read;
      HelloBeforePush reply;
      reply.node_id = "older";
      reply.signature = "sig";
      reply.role = "node";
      reply.listen_address = "10.0.0.99:7070";
      reply.codecs = {static_cast<std::uint8_t>(ModelCodec::kInt8), 0};
      return respond(EncodeMessage(reply));
    }
    if (request.type == MessageType::kPing) return respond(EncodeMessage(Pong{"older"}));
    Result<ExchangeRequest> exchange = DecodeMessage<ExchangeRequest>(request);
    if (!exchange.ok()) {
      ++other;
      return respond(EncodeMessage(Error{"unknown message type"}));
    }
    ++(exchange->codec == ModelCodec::kInt8 ? int8_exchanges : other);
    respond(EncodeMessage(ExchangeReply{"older", exchange->model, exchange->codec}));
  });
  pusher.engine->AddPeer("10.0.0.99:7070", "static");
  ASSERT_TRUE(pusher.engine->Start().ok());
  RunFor(seconds(60));
  EXPECT_EQ(hellos_refused, 1);
  EXPECT_EQ(hellos_read, 1);
  EXPECT_EQ(other, 0);
  EXPECT_GE(int8_exchanges, 5);
  EXPECT_EQ(pusher.engine->Stats().pushes_sent, 0u);
  EXPECT_EQ(pusher.engine->Stats().exchanges_failed, 0u);
  EXPECT_EQ(pusher.engine->Peers().front().flow, "push-pull");
  EXPECT_EQ(pusher.engine->Peers().front().codec, "int8");
  older->Shutdown();
}

// Eight nodes for 300 intervals: none sends more models than gossip ticks it had, every one
// sends, and received models are passed on.
TEST_F(FlowControlTest, TheTokenAccountSendsAtMostOneModelPerInterval) {
  constexpr int kNodes = 8;
  constexpr auto kSpan = seconds(300);
  for (int i = 0; i < kNodes; ++i) {
    AddNode(NodeOptions("n" + std::to_string(i), FlowControl::kTokenAccount, seconds(1)), static_cast<float>(i));
  }
  StartFullMesh(nodes_);
  RunFor(kSpan);
  const std::uint64_t ticks = kSpan / seconds(1) + 1;  // the first after a random stagger < 1 s
  std::uint64_t reactive = 0, received = 0;
  for (const TestNode& node : nodes_) {
    const EngineStats stats = node.engine->Stats();
    std::printf("%s: %llu pushes (%llu reactive) in %llu intervals, %d tokens left\n", node.address.c_str(),
                static_cast<unsigned long long>(stats.pushes_sent), static_cast<unsigned long long>(stats.reactive_sends),
                static_cast<unsigned long long>(ticks), stats.tokens);
    EXPECT_LE(stats.pushes_sent, ticks) << node.address;
    EXPECT_GE(stats.pushes_sent, ticks / 2) << node.address << " saves tokens it never spends";
    EXPECT_EQ(stats.exchanges_failed, 0u) << node.address;
    EXPECT_LE(stats.tokens, NodeOptions("x", FlowControl::kTokenAccount, seconds(1)).token_capacity);
    reactive += stats.reactive_sends;
    received += node.store->offered_senders().size();
  }
  EXPECT_GT(reactive, received / 10) << "received models are hardly passed on";
}

// A stretched interval: the node starts a push every 4 intervals, its unstretched peer every
// one; a stretch that is not a number leaves the interval as configured.
TEST_F(FlowControlTest, AStretchedIntervalStartsProportionallyFewerTransfers) {
  TestNode& slow = AddNode(NodeOptions("slow", FlowControl::kPush, seconds(1)), 1.0f);
  TestNode& steady = AddNode(NodeOptions("steady", FlowControl::kPush, seconds(1)), 2.0f);
  slow.engine->SetIntervalStretch(4);
  StartFullMesh(nodes_);
  RunFor(seconds(100));
  // The first push comes after a random stagger under one (unstretched) interval.
  EXPECT_GE(slow.engine->Stats().pushes_sent, 24u);
  EXPECT_LE(slow.engine->Stats().pushes_sent, 26u);
  EXPECT_GE(steady.engine->Stats().pushes_sent, 99u);
  EXPECT_LE(steady.engine->Stats().pushes_sent, 101u);

  const std::uint64_t before = slow.engine->Stats().pushes_sent;
  slow.engine->SetIntervalStretch(std::numeric_limits<double>::quiet_NaN());
  RunFor(seconds(20));
  EXPECT_GE(slow.engine->Stats().pushes_sent - before, 17u);  // after the last stretched interval ran out
  EXPECT_LE(slow.engine->Stats().pushes_sent - before, 21u);
}

// A node with 2 tokens saved (capacity 4, reactivity 2: nothing sent proactively yet) gets a
// Push: it passes its merged model on to its peer exactly once, a tenth of an interval later.
TEST_F(FlowControlTest, AReceivedModelIsPassedOnATenthOfAnIntervalLater) {
  Options options = NodeOptions("relay", FlowControl::kTokenAccount, seconds(10));
  options.token_capacity = 4;
  options.token_reactivity = 2;
  TestNode& relay = AddNode(options, 1.0f);
  auto peer = network_.NewTransport("10.0.0.50:7070");
  std::vector<Clock::time_point> pushes_at_peer;
  std::vector<ModelSnapshot> pushed_models;
  peer->Listen([&](const std::string&, Frame request, Transport::Respond respond) {
    switch (request.type) {
      case MessageType::kHello: {
        Hello hello{"peer", kProtocolVersion, "sig", "node", "10.0.0.50:7070", {0}, kHelloAcceptsPush};
        return respond(EncodeMessage(hello));
      }
      case MessageType::kPush: {
        Result<Push> push = DecodeMessage<Push>(request);
        ASSERT_TRUE(push.ok()) << push.status().ToString();
        pushes_at_peer.push_back(Clock::now());
        pushed_models.push_back(push->model);
        return respond(EncodeMessage(PushAck{"peer"}));
      }
      default:
        return respond(EncodeMessage(Pong{"peer"}));
    }
  });
  relay.engine->AddPeer("10.0.0.50:7070", "static");
  ASSERT_TRUE(relay.engine->Start().ok());
  ASSERT_TRUE(RunUntil([&] { return relay.engine->Stats().tokens == 2; }, seconds(30)));
  EXPECT_TRUE(pushes_at_peer.empty());

  auto sender = network_.NewTransport("10.0.0.60:7070");
  const Clock::time_point received = Clock::now();
  const Frame ack = Ask(*sender, relay.address, EncodeMessage(Push{"sender", ModelSnapshot{"sig", Params(5.0f), 50, 100}}));
  EXPECT_EQ(ack.type, MessageType::kPushAck);
  RunFor(seconds(3));  // well before the next tick, 10 s after the last
  ASSERT_EQ(pushes_at_peer.size(), 1u);
  EXPECT_GE(pushes_at_peer[0] - received, seconds(1));
  EXPECT_LE(pushes_at_peer[0] - received, milliseconds(1050));
  EXPECT_EQ(pushed_models[0].params, relay.store->model().params) << "not the merged model";
  EXPECT_NE(pushed_models[0].params, Params(1.0f));
  const EngineStats stats = relay.engine->Stats();
  EXPECT_EQ(stats.reactive_sends, 1u);
  EXPECT_EQ(stats.tokens, 1);
  sender->Shutdown();
  peer->Shutdown();
}

// max_upload_kbps holds pushes back as it does exchanges: a node that would push every 20 ms
// (~1 MB/s) sends about its budget over a minute.
TEST_F(FlowControlTest, TheUploadBudgetHoldsPushesBack) {
  constexpr double kKbps = 800;  // 100,000 bytes/s: 5 pushes of 20,000 bytes a second
  for (const FlowControl flow : {FlowControl::kPush, FlowControl::kTokenAccount}) {
    Options options = NodeOptions(FlowControlName(flow), flow, milliseconds(20));
    options.codecs = {ModelCodec::kFp32};
    options.max_upload_kbps = kKbps;
    TestNode& node = AddNode(options, 1.0f);
    TestNode& peer = AddNode(NodeOptions("peer-" + FlowControlName(flow), FlowControl::kPush, milliseconds(0)), 2.0f);
    node.engine->AddPeer(peer.address, "static");
    ASSERT_TRUE(node.engine->Start().ok());
    ASSERT_TRUE(peer.engine->Start().ok());
    RunFor(seconds(60));
    node.engine->Stop();
    const EngineStats stats = node.engine->Stats();
    const double budget_bytes = kKbps * 1000 / 8 * (60 + UploadBudget::kBurst.count());
    EXPECT_LE(static_cast<double>(stats.bytes_sent), 1.1 * budget_bytes) << FlowControlName(flow);
    EXPECT_GE(static_cast<double>(stats.bytes_sent), 0.8 * kKbps * 1000 / 8 * 60) << FlowControlName(flow);
    EXPECT_GT(stats.exchanges_over_budget, 100u) << FlowControlName(flow);
  }
}

// A Push is checked like an ExchangeRequest: an undecodable body and a NaN int8 scale are
// answered with Error and counted as rejected frames, a wrong model as a rejected update;
// nothing is offered, and the node goes on answering.
TEST_F(FlowControlTest, AMalformedPushIsRefusedAndCounted) {
  TestNode& target = AddNode(NodeOptions("target", FlowControl::kPush, milliseconds(0)), 1.0f);
  ASSERT_TRUE(target.engine->Start().ok());
  auto attacker = network_.NewTransport("10.0.0.66:7070");

  Frame truncated = EncodeMessage(Push{"attacker", ModelSnapshot{"sig", Params(2.0f), 1, 10}});
  truncated.body.resize(truncated.body.size() / 2);
  EXPECT_EQ(Ask(*attacker, target.address, truncated).type, MessageType::kError);
  EXPECT_EQ(target.engine->Stats().frames_rejected, 1u);

  Frame nan_scale = EncodeMessage(Push{"attacker", ModelSnapshot{"sig", Params(2.0f), 1, 10}, ModelCodec::kInt8});
  // The first block's scale: after the archive byte, two strings, the count and payload words
  // and the block count.
  const std::size_t scale = 1 + 8 + std::strlen("attacker") + 8 + std::strlen("sig") + 8 + 8 + 4;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(&nan_scale.body[scale], &nan, sizeof(nan));
  EXPECT_EQ(Ask(*attacker, target.address, nan_scale).type, MessageType::kError);
  EXPECT_EQ(target.engine->Stats().frames_rejected, 2u);

  const Frame wrong_model = EncodeMessage(Push{"attacker", ModelSnapshot{"other", Params(2.0f), 1, 10}});
  EXPECT_EQ(Ask(*attacker, target.address, wrong_model).type, MessageType::kError);
  EXPECT_EQ(target.engine->Stats().rejected_updates, 1u);

  EXPECT_TRUE(target.store->offered_senders().empty());
  const Frame good = EncodeMessage(Push{"friend", ModelSnapshot{"sig", Params(2.0f), 1, 10}});
  EXPECT_EQ(Ask(*attacker, target.address, good).type, MessageType::kPushAck);
  EXPECT_EQ(target.store->offered_senders().size(), 1u);
  attacker->Shutdown();
}

}  // namespace
}  // namespace gl::gossip

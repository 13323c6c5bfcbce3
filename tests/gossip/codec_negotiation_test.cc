// Model codecs and the upload budget between engines on real TcpTransports over loopback:
// each pair uses the most compact codec both accept, an fp32-only peer and a peer of an
// older build still exchange, int8 pairs send fewer bytes, merges get the decoded values,
// a hostile coded model is refused and counted while gossip goes on, and max_upload_kbps
// holds exchanges back.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "cluster_util.h"
#include "gossip/wire/codec.h"
#include "gossip/wire/model_codec.h"
#include "gossip/wire/tcp_transport.h"
#include "hello_without_codecs.h"

namespace gl::gossip {
namespace {

using std::chrono::milliseconds;

const std::vector<ModelCodec> kFp32Only = {ModelCodec::kFp32};

std::vector<float> RandomParams(std::size_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> gauss(0.0f, 0.1f);
  std::vector<float> params(count);
  for (float& v : params) v = gauss(rng);
  return params;
}

// Keeps its model and records what it is offered, so a test sees the values as received.
class RecordingStore : public ModelStore {
 public:
  explicit RecordingStore(ModelSnapshot model) : model_(std::move(model)) {}
  ModelSnapshot Snapshot() override { return model_; }
  void Offer(ReceivedModel remote) override { offered_.push_back(std::move(remote.model.params)); }
  const std::vector<std::vector<float>>& offered() const { return offered_; }

 private:
  ModelSnapshot model_;
  std::vector<std::vector<float>> offered_;
};

class CodecNegotiationTest : public ::testing::Test {
 protected:
  CodecNegotiationTest() { nodes_.reserve(8); }  // AddNode's references stay valid
  ~CodecNegotiationTest() override {
    for (TestNode& node : nodes_) node.engine->Stop();
  }

  static Options NodeOptions(const std::string& id, std::vector<ModelCodec> codecs, milliseconds interval) {
    Options options = DefaultLocalOptions();
    options.node_id = id;
    options.codecs = std::move(codecs);
    options.gossip_interval = interval;
    return options;
  }

  TestNode& AddNode(Options options, std::size_t params, std::uint64_t seed) {
    options.max_frame_bytes = MaxBodyBytesForModel(params);
    auto transport = TcpTransport::Create(io_, "127.0.0.1:0", TransportOptions(options));
    EXPECT_TRUE(transport.ok()) << transport.status().ToString();
    TestNode node;
    node.address = (*transport)->LocalAddress();
    node.transport = std::move(transport).value();
    node.store = std::make_unique<MergingStore>(ModelSnapshot{"gru-v1", RandomParams(params, seed), 1, 10});
    node.engine = std::make_unique<Engine>(io_, std::move(options), *node.transport, *node.store);
    nodes_.push_back(std::move(node));
    return nodes_.back();
  }

  static std::string CodecSeen(const Engine& observer, const std::string& address) {
    for (const PeerStatus& peer : observer.Peers()) {
      if (peer.address == address) return peer.codec;
    }
    return "unknown";
  }

  static bool ExchangedWithEveryPeer(const Engine& engine) {
    for (const PeerStatus& peer : engine.Peers()) {
      if (peer.exchanges == 0) return false;
    }
    return true;
  }

  asio::io_context io_;
  std::vector<TestNode> nodes_;
};

TEST_F(CodecNegotiationTest, EachPairUsesTheMostCompactCodecBothAcceptAndAnFp32OnlyPeerStillExchanges) {
  const std::vector<ModelCodec> all = Options{}.codecs;
  AddNode(NodeOptions("a", all, milliseconds(30)), 5000, 1);
  AddNode(NodeOptions("b", {ModelCodec::kFp16, ModelCodec::kFp32}, milliseconds(30)), 5000, 2);
  AddNode(NodeOptions("c", kFp32Only, milliseconds(30)), 5000, 3);
  StartFullMesh(nodes_);
  ASSERT_TRUE(RunUntil(io_, [&] {
    return std::all_of(nodes_.begin(), nodes_.end(), [](const TestNode& n) { return ExchangedWithEveryPeer(*n.engine); });
  }, milliseconds(10000)));
  const Engine &a = *nodes_[0].engine, &b = *nodes_[1].engine, &c = *nodes_[2].engine;
  const std::string &at_a = nodes_[0].address, &at_b = nodes_[1].address, &at_c = nodes_[2].address;
  EXPECT_EQ(CodecSeen(a, at_b), "fp16");
  EXPECT_EQ(CodecSeen(b, at_a), "fp16");
  EXPECT_EQ(CodecSeen(a, at_c), "fp32");
  EXPECT_EQ(CodecSeen(c, at_a), "fp32");
  EXPECT_EQ(CodecSeen(b, at_c), "fp32");
  for (const TestNode& node : nodes_) {
    EXPECT_EQ(node.engine->Stats().frames_rejected, 0u) << node.address;
    EXPECT_EQ(node.engine->Stats().rejected_updates, 0u) << node.address;
  }
}

// One initiator per pair, the same model size: the int8 pair moves about a quarter of the
// fp32 pair's bytes per exchange.
TEST_F(CodecNegotiationTest, Int8PairsSendAQuarterOfTheBytesOfFp32Pairs) {
  constexpr std::size_t kParams = 50000;
  const std::vector<ModelCodec> all = Options{}.codecs;
  TestNode& int8_initiator = AddNode(NodeOptions("p", all, milliseconds(30)), kParams, 1);
  TestNode& int8_responder = AddNode(NodeOptions("q", all, milliseconds(0)), kParams, 2);
  TestNode& fp32_initiator = AddNode(NodeOptions("r", all, milliseconds(30)), kParams, 3);
  TestNode& fp32_responder = AddNode(NodeOptions("s", kFp32Only, milliseconds(0)), kParams, 4);
  int8_initiator.engine->AddPeer(int8_responder.address, "static");
  fp32_initiator.engine->AddPeer(fp32_responder.address, "static");
  for (TestNode& node : nodes_) ASSERT_TRUE(node.engine->Start().ok());
  ASSERT_TRUE(RunUntil(io_, [&] {
    return int8_initiator.engine->Stats().exchanges_ok >= 10 && fp32_initiator.engine->Stats().exchanges_ok >= 10;
  }, milliseconds(10000)));
  auto per_exchange = [](const Engine& engine) {
    const EngineStats stats = engine.Stats();
    return static_cast<double>(stats.bytes_sent + stats.bytes_received) / static_cast<double>(stats.exchanges_ok);
  };
  const double int8_bytes = per_exchange(*int8_initiator.engine);
  const double fp32_bytes = per_exchange(*fp32_initiator.engine);
  std::printf("bytes per exchange of %zu parameters: int8 %.0f, fp32 %.0f (%.3f)\n", kParams, int8_bytes, fp32_bytes,
              int8_bytes / fp32_bytes);
  EXPECT_EQ(CodecSeen(*int8_initiator.engine, int8_responder.address), "int8");
  EXPECT_EQ(CodecSeen(*fp32_initiator.engine, fp32_responder.address), "fp32");
  EXPECT_LT(int8_bytes, 0.27 * fp32_bytes);
  EXPECT_GT(fp32_bytes, 2.0 * kParams * sizeof(float));
}

// What is merged is what the codec decodes, on both sides of an exchange.
// Two nodes; with kWithDifferences the request goes in int8 and asks for the reply as an int4
// difference from it.
class ExchangeOfTwoTest : public CodecNegotiationTest {
 protected:
  static constexpr std::size_t kParams = 3000;
  inline static const std::vector<ModelCodec> kWithDifferences = {ModelCodec::kInt4Delta, ModelCodec::kInt8,
                                                                  ModelCodec::kFp16, ModelCodec::kFp32};

  // Runs one exchange between two nodes accepting `codecs`; the initiator's model and the
  // responder's are RandomParams(kParams, 10) and (kParams, 11), or `responder` if given.
  void Exchange(const std::vector<ModelCodec>& codecs, std::vector<float> responder = {}) {
    if (responder.empty()) responder = RandomParams(kParams, 11);
    const std::vector<float> models[2] = {RandomParams(kParams, 10), responder};
    for (int i = 0; i < 2; ++i) {
      Options options = NodeOptions(i == 0 ? "initiator" : "responder", codecs, milliseconds(i == 0 ? 30 : 0));
      transports_.push_back(std::move(TcpTransport::Create(io_, "127.0.0.1:0", TransportOptions(options))).value());
      stores_.push_back(std::make_unique<RecordingStore>(ModelSnapshot{"gru-v1", models[i], 1, 10}));
      engines_.push_back(std::make_unique<Engine>(io_, options, *transports_.back(), *stores_.back()));
    }
    engines_[0]->AddPeer(transports_[1]->LocalAddress(), "static");
    for (auto& engine : engines_) ASSERT_TRUE(engine->Start().ok());
    ASSERT_TRUE(RunUntil(io_, [&] { return !stores_[0]->offered().empty() && !stores_[1]->offered().empty(); },
                         milliseconds(5000)));
    for (auto& engine : engines_) engine->Stop();
  }
  std::vector<float> Sent(int i) { return stores_[i]->Snapshot().params; }
  const std::vector<float>& Merged(int i) { return stores_[i]->offered().front(); }

  std::vector<std::unique_ptr<TcpTransport>> transports_;
  std::vector<std::unique_ptr<RecordingStore>> stores_;
  std::vector<std::unique_ptr<Engine>> engines_;
};

TEST_F(ExchangeOfTwoTest, WithoutInt4DeltaBothMergeTheInt8DecodedModel) {
  Exchange(Options{}.codecs);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Merged(i), AsReceived(ModelCodec::kInt8, Sent(1 - i))) << "node " << i;
    EXPECT_NE(Merged(i), Sent(1 - i)) << "node " << i << " got exact values: no int8 on the wire";
  }
  EXPECT_EQ(engines_[0]->Peers().front().reply_codec, "int8");
}

TEST_F(ExchangeOfTwoTest, TheReplyIsTheInt4DifferenceFromTheRequestAddedBack) {
  Exchange(kWithDifferences);
  const std::vector<float> request = AsReceived(ModelCodec::kInt8, Sent(0));
  EXPECT_EQ(Merged(1), request);
  std::vector<float> difference(kParams);
  for (std::size_t i = 0; i < kParams; ++i) difference[i] = Sent(1)[i] - request[i];
  std::vector<float> expected = AsReceived(ModelCodec::kInt4Delta, difference);
  ASSERT_NE(expected, difference) << "the difference went exactly: no int4 on the wire";
  for (std::size_t i = 0; i < kParams; ++i) expected[i] += request[i];
  EXPECT_EQ(Merged(0), expected);
  EXPECT_EQ(engines_[0]->Peers().front().codec, "int8");
  EXPECT_EQ(engines_[0]->Peers().front().reply_codec, "int4-delta");
}

// Two close models (as gossiping ones are): the difference's int4 error is a fraction of
// the whole model's int8 error, on half the payload.
TEST_F(ExchangeOfTwoTest, ForCloseModelsTheDifferenceIsMorePreciseThanInt8OfTheModel) {
  std::vector<float> close = RandomParams(kParams, 10);
  const std::vector<float> nudge = RandomParams(kParams, 12);
  for (std::size_t i = 0; i < kParams; ++i) close[i] += 0.02f * nudge[i];
  Exchange(kWithDifferences, close);
  double delta_error = 0, int8_error = 0;
  const std::vector<float> int8 = AsReceived(ModelCodec::kInt8, Sent(1));
  for (std::size_t i = 0; i < kParams; ++i) {
    delta_error = std::max<double>(delta_error, std::fabs(Merged(0)[i] - Sent(1)[i]));
    int8_error = std::max<double>(int8_error, std::fabs(int8[i] - Sent(1)[i]));
  }
  EXPECT_LT(delta_error, int8_error / 2) << "int4-delta " << delta_error << ", int8 " << int8_error;
  EXPECT_LT(PayloadBytes(ModelCodec::kInt4Delta, kParams) * 1.7, PayloadBytes(ModelCodec::kInt8, kParams));
}

// A peer that answers every request with an int4-delta reply, whether asked or not, with a
// Hello that lists `codecs`.
TEST_F(CodecNegotiationTest, AnUnaskedDifferenceReplyIsRefusedAndCounted) {
  TestNode& node = AddNode(NodeOptions("new", {ModelCodec::kInt4Delta, ModelCodec::kInt8, ModelCodec::kFp32},
                                       milliseconds(30)), 2000, 1);
  auto rogue = std::move(TcpTransport::Create(io_, "127.0.0.1:0", TcpOptions{})).value();
  int asked = 0, unasked = 0;
  rogue->Listen([&](const std::string&, Frame request, Transport::Respond respond) {
    if (request.type == MessageType::kHello) {
      return respond(EncodeMessage(Hello{"rogue", kProtocolVersion, "gru-v1", "node", rogue->LocalAddress(), {2, 0}}));
    }
    if (request.type == MessageType::kPing) return respond(EncodeMessage(Pong{"rogue"}));
    Result<ExchangeRequest> exchange = DecodeMessage<ExchangeRequest>(request);
    ASSERT_TRUE(exchange.ok()) << exchange.status().ToString();
    ++(exchange->reply_codec == ModelCodec::kInt4Delta ? asked : unasked);
    respond(EncodeMessage(ExchangeReply{"rogue", exchange->model, ModelCodec::kInt4Delta}));
  });
  node.engine->AddPeer(rogue->LocalAddress(), "static");
  ASSERT_TRUE(node.engine->Start().ok());
  ASSERT_TRUE(RunUntil(io_, [&] { return node.engine->Stats().frames_rejected >= 3; }, milliseconds(5000)));
  EXPECT_EQ(asked, 0) << "its Hello did not list int4-delta";
  EXPECT_GE(unasked, 3);
  EXPECT_EQ(node.engine->Stats().exchanges_ok, 0u);
  EXPECT_TRUE(node.store->offered_senders().empty()) << "nothing reached the store";
  node.engine->Stop();
  rogue->Shutdown();
}

// A peer of a build that predates codecs: it refuses a Hello with a codec list as malformed
// (Error) and reads only fp32 models. The engine asks again without the features, then
// without the list, and gossips in fp32.
TEST_F(CodecNegotiationTest, APeerOfAnOlderBuildGetsAPlainHelloAndFp32Models) {
  TestNode& node = AddNode(NodeOptions("new", Options{}.codecs, milliseconds(30)), 2000, 1);
  auto older = std::move(TcpTransport::Create(io_, "127.0.0.1:0", TcpOptions{})).value();
  int hellos_refused = 0, plain_hellos = 0, fp32_models = 0, other_models = 0;
  older->Listen([&](const std::string&, Frame request, Transport::Respond respond) {
    if (request.type == MessageType::kHello) {
      Result<HelloWithoutCodecs> hello = DecodeMessage<HelloWithoutCodecs>(request);
      if (!hello.ok()) {
        ++hellos_refused;
        return respond(EncodeMessage(Error{hello.status().message()}));
      }
      ++plain_hellos;
      return respond(EncodeMessage(HelloWithoutCodecs{"old", "gru-v1", "node", older->LocalAddress()}));
    }
    if (request.type == MessageType::kPing) return respond(EncodeMessage(Pong{"old"}));
    Result<ExchangeRequest> exchange = DecodeMessage<ExchangeRequest>(request);
    ASSERT_TRUE(exchange.ok()) << exchange.status().ToString();
    ++(exchange->codec == ModelCodec::kFp32 ? fp32_models : other_models);
    respond(EncodeMessage(ExchangeReply{"old", exchange->model}));
  });
  node.engine->AddPeer(older->LocalAddress(), "static");
  ASSERT_TRUE(node.engine->Start().ok());
  ASSERT_TRUE(RunUntil(io_, [&] { return node.engine->Stats().exchanges_ok >= 5; }, milliseconds(5000)));
  EXPECT_EQ(hellos_refused, 2);  // with codecs and features, then with codecs
  EXPECT_EQ(plain_hellos, 1);
  EXPECT_EQ(other_models, 0);
  EXPECT_GE(fp32_models, 5);
  EXPECT_EQ(CodecSeen(*node.engine, older->LocalAddress()), "fp32");
  EXPECT_EQ(node.engine->Stats().exchanges_failed, 0u);
  node.engine->Stop();
  older->Shutdown();
}

// A coded model that fails validation is answered with Error and counted; gossip goes on.
TEST_F(CodecNegotiationTest, AHostileInt8ModelIsRefusedCountedAndGossipGoesOn) {
  constexpr std::size_t kParams = 1000;
  TestNode& target = AddNode(NodeOptions("target", Options{}.codecs, milliseconds(30)), kParams, 1);
  AddNode(NodeOptions("friend", Options{}.codecs, milliseconds(30)), kParams, 2);
  StartFullMesh(nodes_);
  auto attacker = std::move(TcpTransport::Create(io_, "127.0.0.1:0", TcpOptions{})).value();
  Frame hostile = EncodeMessage(ExchangeRequest{"attacker", ModelSnapshot{"gru-v1", RandomParams(kParams, 9), 1, 10},
                                                ModelCodec::kInt8});
  // The first block's scale (after the archive byte, two strings, the count and payload length
  // words, and the block count) becomes NaN.
  const std::size_t scale = 1 + 8 + 8 + 8 + 6 + 8 + 8 + 4;
  for (int i = 0; i < 4; ++i) hostile.body[scale + i] = i < 2 ? 0x00 : (i == 2 ? 0xC0 : 0x7F);
  MessageType reply_type = MessageType::kHello;
  bool answered = false;
  attacker->Request(target.address, hostile, milliseconds(2000), [&](Status status, Frame reply) {
    answered = status.ok();
    reply_type = reply.type;
  });
  ASSERT_TRUE(RunUntil(io_, [&] { return answered; }, milliseconds(3000)));
  EXPECT_EQ(reply_type, MessageType::kError);
  EXPECT_EQ(target.engine->Stats().frames_rejected, 1u);
  const std::uint64_t before = target.engine->Stats().exchanges_ok;
  EXPECT_TRUE(RunUntil(io_, [&] { return target.engine->Stats().exchanges_ok >= before + 3; }, milliseconds(3000)));
  attacker->Shutdown();
}

// max_upload_kbps over real sockets: a node that would start an exchange every 20 ms
// (~200 KB/s) sends at about its budget's rate, and its status shows that rate.
TEST_F(CodecNegotiationTest, TheUploadBudgetHoldsExchangesBack) {
  constexpr double kKbps = 80;  // 10,000 bytes/s: ~2.5 exchanges of 1000 fp32 values a second
  constexpr double kBytesPerSecond = kKbps * 1000 / 8;
  Options limited = NodeOptions("limited", kFp32Only, milliseconds(20));
  limited.max_upload_kbps = kKbps;
  TestNode& node = AddNode(limited, 1000, 1);
  TestNode& peer = AddNode(NodeOptions("peer", kFp32Only, milliseconds(0)), 1000, 2);
  node.engine->AddPeer(peer.address, "static");
  ASSERT_TRUE(node.engine->Start().ok());
  ASSERT_TRUE(peer.engine->Start().ok());
  const auto start = std::chrono::steady_clock::now();
  RunUntil(io_, [] { return false; }, milliseconds(4000));
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const EngineStats stats = node.engine->Stats();
  std::printf("in %.1f s: %llu bytes sent (budget %.0f + a 2 s burst), %llu exchanges, %llu held back, status %.0f "
              "bytes/s\n",
              elapsed_s, static_cast<unsigned long long>(stats.bytes_sent), kBytesPerSecond * elapsed_s,
              static_cast<unsigned long long>(stats.exchanges_ok),
              static_cast<unsigned long long>(stats.exchanges_over_budget), stats.upload_bytes_per_s);
  const double allowed = kBytesPerSecond * (elapsed_s + UploadBudget::kBurst.count());
  EXPECT_LE(static_cast<double>(stats.bytes_sent), 1.1 * allowed);
  EXPECT_GE(static_cast<double>(stats.bytes_sent), 0.8 * kBytesPerSecond * elapsed_s);
  EXPECT_GT(stats.exchanges_over_budget, 50u);
  EXPECT_NEAR(stats.upload_bytes_per_s, static_cast<double>(stats.bytes_sent) / elapsed_s,
              0.25 * static_cast<double>(stats.bytes_sent) / elapsed_s);
}

}  // namespace
}  // namespace gl::gossip

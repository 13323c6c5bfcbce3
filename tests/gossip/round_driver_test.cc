// RoundDriver and RoundParticipant on InMemoryNetwork: a coordinator and a few participants
// whose training is faked (global + delta), in one process on one io_context.
#include "gossip/rounds/round_driver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "cluster_util.h"
#include "round_test_util.h"
#include "gossip/wire/codec.h"
#include "gossip/rounds/fedavg.h"
#include "gossip/wire/in_memory_transport.h"
#include "gossip/wire/model_codec.h"
#include "gossip/rounds/round_participant.h"

namespace gl::gossip {
namespace {

using std::chrono::milliseconds;
struct Participant {
  TestNode node;
  std::unique_ptr<FakeWorker> worker;
  std::unique_ptr<RoundParticipant> participant;
};

class RoundDriverTest : public ::testing::Test {
 protected:
  RoundDriverTest() { participants_.reserve(8); }
  ~RoundDriverTest() override {
    if (driver_) driver_->Stop();
    for (Participant& p : participants_) {
      p.participant->Stop();
      p.node.engine->Stop();
    }
    if (coordinator_.engine) coordinator_.engine->Stop();
  }

  Participant& AddParticipant(float delta, std::uint64_t samples, std::vector<ModelCodec> codecs = Options{}.codecs) {
    const std::string id = "p" + std::to_string(participants_.size() + 1);
    Participant p;
    Options engine_options = FastRoundEngineOptions(id);
    engine_options.codecs = std::move(codecs);
    p.node = MakeRoundTestNode(network_, io_, "10.0.1." + std::to_string(participants_.size() + 1) + ":7070",
                      engine_options);
    p.worker = std::make_unique<FakeWorker>(delta, samples);
    ParticipantOptions options{id, kSignature, kParams, failover_};
    options.max_update_norm = participant_max_update_norm_;
    p.participant = std::make_unique<RoundParticipant>(io_, options, *p.node.engine, *p.worker);
    EXPECT_TRUE(p.node.engine->Start().ok());
    p.participant->Start();
    participants_.push_back(std::move(p));
    return participants_.back();
  }

  // A node that answers Hello as a coordinator; every participant knows it as a static peer.
  TestNode MakeCoordinatorNode(const std::string& id, const std::string& address) {
    Options options = FastRoundEngineOptions(id);
    options.role = "coordinator";
    options.codecs = coordinator_codecs_;
    TestNode node = MakeRoundTestNode(network_, io_, address, options);
    for (Participant& p : participants_) p.node.engine->AddPeer(address, "static");
    return node;
  }

  // Sends `request` from `from`'s transport to `p`; the outcome: OK, or Rejected with the Error's reason.
  Status Ask(Transport& from, Participant& p, const RoundRequest& request) {
    return AskRound(io_, from, p.node.address, request).status();
  }

  // Waits until `p` learned, from its own Hello, that the peer at `address` is a coordinator.
  bool Verified(Participant& p, const std::string& address) {
    return RunUntil([&] { return SeesCoordinatorAt(*p.node.engine, address); }, milliseconds(2000));
  }

  void StartCoordinator(RoundDriverOptions options, const std::string& id = "coord") {
    coordinator_ = MakeCoordinatorNode(id, "10.0.0.1:7070");
    for (Participant& p : participants_) coordinator_.engine->AddPeer(p.node.address, "static");
    ASSERT_TRUE(coordinator_.engine->Start().ok());
    coordinator_.engine->SetGossipPaused(true);
    options.node_id = id;
    options.listen_address = coordinator_.address;
    options.signature = kSignature;
    options.heartbeat_check = milliseconds(20);
    options.retry_delay = milliseconds(50);
    FedAvgOptions fedavg;
    fedavg.min_nodes = options.min_nodes;
    fedavg.config = round_config_;
    strategy_ = std::make_unique<FedAvg>(fedavg);
    driver_ = std::make_unique<RoundDriver>(io_, options, *coordinator_.engine, *coordinator_.transport, *strategy_,
                                            coordinator_worker_, initial_global_, 0);
    driver_->Start();
  }

  bool RunUntil(const std::function<bool()>& done, milliseconds deadline) {
    return gossip::RunUntil(io_, done, deadline);
  }

  asio::io_context io_;
  InMemoryNetwork network_{io_};
  milliseconds failover_{300};
  // Round models are screened like gossip offers, against the local model, which the fake
  // training never changes: a bound only where a test wants one.
  double participant_max_update_norm_ = 0;
  std::vector<Participant> participants_;
  std::vector<float> initial_global_ = std::vector<float>(kParams, 0.0f);
  std::vector<ModelCodec> coordinator_codecs_ = Options{}.codecs;
  RoundConfig round_config_;
  TestNode coordinator_;
  FakeWorker coordinator_worker_{0.0f, 0};
  std::unique_ptr<FedAvg> strategy_;
  std::unique_ptr<RoundDriver> driver_;
};

TEST_F(RoundDriverTest, RoundsAggregateBySampleCount) {
  AddParticipant(1.0f, 10);
  AddParticipant(3.0f, 30);
  StartCoordinator(RoundDriverOptions{});
  ASSERT_TRUE(RunUntil([&] { return driver_->Stats().round >= 3; }, milliseconds(5000)));
  ASSERT_GE(coordinator_worker_.published_.size(), 3u);
  // Each round adds (1 x 10 + 3 x 30) / 40 = 2.5 to every parameter.
  EXPECT_EQ(coordinator_worker_.published_[0].first, 1u);
  EXPECT_FLOAT_EQ(coordinator_worker_.published_[0].second[0], 2.5f);
  EXPECT_FLOAT_EQ(coordinator_worker_.published_[2].second[kParams - 1], 7.5f);
  // The server optimizer's state goes with each global model (plain FedAvg: the velocity is the last step).
  ASSERT_EQ(coordinator_worker_.published_server_states_.size(), coordinator_worker_.published_.size());
  for (double v : coordinator_worker_.published_server_states_[2].first) EXPECT_DOUBLE_EQ(v, 2.5);
  EXPECT_EQ(driver_->Stats().participants.size(), 2u);
  EXPECT_TRUE(driver_->Stats().dropped.empty());
  for (Participant& p : participants_) {
    EXPECT_TRUE(p.participant->Stats().federated);
    EXPECT_TRUE(p.worker->federated_);
    EXPECT_EQ(p.participant->Stats().coordinator, "coord");
    EXPECT_GE(p.participant->Stats().last_round_served, 2u);
  }
}

// Each participant gets the global model in the codec it negotiated with the coordinator:
// exact for one that accepts fp32 only, int8-decoded for one that accepts int8.
TEST_F(RoundDriverTest, RoundModelsTravelInEachParticipantsCodec) {
  initial_global_ = {0.1f, -0.2f, 0.3f, 0.7f};
  Participant& exact = AddParticipant(1.0f, 10, {ModelCodec::kFp32});
  Participant& coded = AddParticipant(1.0f, 10);
  StartCoordinator(RoundDriverOptions{});
  ASSERT_TRUE(RunUntil([&] { return driver_->Stats().round >= 1; }, milliseconds(5000)));
  ASSERT_FALSE(exact.worker->received_.empty());
  ASSERT_FALSE(coded.worker->received_.empty());
  EXPECT_EQ(exact.worker->received_.front(), initial_global_);
  std::vector<std::uint8_t> payload;
  ASSERT_TRUE(EncodeValues(ModelCodec::kInt8, initial_global_, payload));
  std::vector<float> int8_global(kParams);
  ASSERT_TRUE(DecodeValues(ModelCodec::kInt8, payload, int8_global).ok());
  EXPECT_NE(int8_global, initial_global_);
  EXPECT_EQ(coded.worker->received_.front(), int8_global);
  EXPECT_EQ(driver_->Stats().participants.size(), 2u);
}

inline const std::vector<ModelCodec> kWithDifferences = {ModelCodec::kInt4Delta, ModelCodec::kInt8, ModelCodec::kFp32};

// With int4-delta on both sides a participant answers with its update (trained minus the
// global as it decoded it) in int4, which the coordinator adds back to the exact global: a
// small update arrives almost exactly and int8's rounding of the weights never enters the
// aggregate, where a whole int8 model carries it. A participant without int4-delta still
// answers in int8.
TEST_F(RoundDriverTest, RoundRepliesAreTheUpdateInInt4WhenBothListInt4Delta) {
  initial_global_ = {0.1f, -0.2f, 0.3f, 0.7f};
  coordinator_codecs_ = kWithDifferences;
  AddParticipant(0.01f, 10, kWithDifferences);
  AddParticipant(0.01f, 10);
  StartCoordinator(RoundDriverOptions{});
  ASSERT_TRUE(RunUntil([&] { return driver_->Stats().round >= 1; }, milliseconds(5000)));
  ASSERT_FALSE(coordinator_worker_.published_.empty());
  const std::vector<float> decoded_global = AsReceived(ModelCodec::kInt8, initial_global_);
  std::vector<float> trained = decoded_global;
  for (float& v : trained) v += 0.01f;
  const std::vector<float> whole_int8 = AsReceived(ModelCodec::kInt8, trained);
  float int8_error = 0;
  for (std::size_t i = 0; i < kParams; ++i) int8_error = std::max(int8_error, std::abs(whole_int8[i] - trained[i]));
  ASSERT_GT(int8_error, 1e-4f) << "int8 rounds these weights: the test tells the two replies apart";
  const std::vector<float>& global = coordinator_worker_.published_.front().second;
  for (std::size_t i = 0; i < kParams; ++i) {
    EXPECT_NEAR(global[i], 0.5f * (initial_global_[i] + 0.01f) + 0.5f * whole_int8[i], 1e-6f) << i;
  }
  EXPECT_TRUE(driver_->Stats().dropped.empty());
}

// An SGD round: a participant that replies with differences gets the round in its codec, one
// that cannot gets it in fp32 (an SGD step is far smaller than int8's rounding of a whole
// model), and each is told to train with SGD.
TEST_F(RoundDriverTest, SgdRoundsGoInFp32ToAParticipantThatCannotReplyWithADifference) {
  initial_global_ = {0.1f, -0.2f, 0.3f, 0.7f};
  coordinator_codecs_ = kWithDifferences;
  Participant& differences = AddParticipant(0.001f, 10, kWithDifferences);
  Participant& whole = AddParticipant(0.001f, 10);
  round_config_.optimizer = LocalOptimizer::kSgd;
  StartCoordinator(RoundDriverOptions{});
  ASSERT_TRUE(RunUntil([&] { return driver_->Stats().round >= 1; }, milliseconds(5000)));
  ASSERT_FALSE(differences.worker->configs_.empty());
  ASSERT_FALSE(whole.worker->configs_.empty());
  EXPECT_EQ(differences.worker->configs_.front().optimizer, LocalOptimizer::kSgd);
  EXPECT_EQ(whole.worker->configs_.front().optimizer, LocalOptimizer::kSgd);
  EXPECT_EQ(differences.worker->received_.front(), AsReceived(ModelCodec::kInt8, initial_global_));
  EXPECT_EQ(whole.worker->received_.front(), initial_global_);
  // Both updates of +0.001 arrive (int4 of the difference, fp32 of the whole model).
  const std::vector<float>& global = coordinator_worker_.published_.front().second;
  for (std::size_t i = 0; i < kParams; ++i) EXPECT_NEAR(global[i], initial_global_[i] + 0.001f, 1e-6f) << i;
}

// A participant whose Hello does not say it trains with SGD (an older build) is left out of
// an SGD round rather than sent a request it would refuse or train with Adam.
TEST_F(RoundDriverTest, AParticipantThatCannotTrainWithSgdIsLeftOutOfAnSgdRound) {
  AddParticipant(1.0f, 10);
  auto old_build = network_.NewTransport("10.0.2.1:7070");
  int requests = 0;
  old_build->Listen([&](const std::string&, Frame request, Transport::Respond respond) {
    if (request.type == MessageType::kHello) {
      return respond(EncodeMessage(Hello{"old", kProtocolVersion, kSignature, "node", "10.0.2.1:7070", {2, 0},
                                         kHelloAcceptsPush}));
    }
    if (request.type == MessageType::kPing) return respond(EncodeMessage(Pong{"old"}));
    ++requests;
    respond(EncodeMessage(Error{"unexpected"}));
  });
  round_config_.optimizer = LocalOptimizer::kSgd;
  RoundDriverOptions options;
  options.min_nodes = 1;
  StartCoordinator(options);
  coordinator_.engine->AddPeer("10.0.2.1:7070", "static");
  ASSERT_TRUE(RunUntil([&] { return driver_->Stats().dropped_total >= 1 && driver_->Stats().round >= 2; },
                       milliseconds(5000)));
  EXPECT_EQ(requests, 0);
  const auto& [round, global] = coordinator_worker_.published_.back();
  EXPECT_NEAR(global[0], static_cast<float>(round), 1e-4);
}

// A participant that answers with an int4-delta reply the coordinator did not ask for (its
// Hello lists int4-delta but does not say it reads a round request's reply_codec) is left
// out of the round; the honest participant's update makes it.
TEST_F(RoundDriverTest, AnUnaskedDifferenceReplyIsLeftOutOfTheRound) {
  coordinator_codecs_ = kWithDifferences;
  AddParticipant(1.0f, 10, kWithDifferences);
  auto rogue = network_.NewTransport("10.0.2.1:7070");
  int asked = 0, unasked = 0;
  rogue->Listen([&](const std::string&, Frame request, Transport::Respond respond) {
    if (request.type == MessageType::kHello) {
      return respond(EncodeMessage(Hello{"rogue", kProtocolVersion, kSignature, "node", "10.0.2.1:7070", {3, 2, 0},
                                         kHelloAcceptsPush}));
    }
    if (request.type == MessageType::kPing) return respond(EncodeMessage(Pong{"rogue"}));
    Result<RoundRequest> round = DecodeMessage<RoundRequest>(request);
    ASSERT_TRUE(round.ok()) << round.status().ToString();
    ++(round->reply_codec == ModelCodec::kInt4Delta ? asked : unasked);
    respond(EncodeMessage(RoundReply{"rogue", round->round, ModelSnapshot{kSignature, round->model.params, 0, 10}, 1,
                                     ModelCodec::kInt4Delta}));
  });
  RoundDriverOptions options;
  options.min_nodes = 1;
  StartCoordinator(options);
  coordinator_.engine->AddPeer("10.0.2.1:7070", "static");
  ASSERT_TRUE(RunUntil([&] { return unasked >= 1 && driver_->Stats().round >= 2; }, milliseconds(5000)));
  EXPECT_EQ(asked, 0);
  EXPECT_GE(driver_->Stats().dropped_total, 1u);
  // Only the honest participant's +1 per round reached the global model.
  const auto& [round, global] = coordinator_worker_.published_.back();
  EXPECT_NEAR(global[0], static_cast<float>(round), 1e-4);
  rogue->Shutdown();
}

TEST_F(RoundDriverTest, StragglerLeftOutAtTheDeadline) {
  AddParticipant(1.0f, 10);
  AddParticipant(1.0f, 10);
  AddParticipant(100.0f, 10).worker->hold_ = true;  // alive (answers probes) but never finishes
  RoundDriverOptions options;
  options.round_deadline = milliseconds(300);
  StartCoordinator(options);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunUntil([&] { return driver_->Stats().round >= 1; }, milliseconds(3000)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(290));
  EXPECT_EQ(driver_->Stats().participants.size(), 2u);
  // Named by address: it never answered, and static peers come without an id. (Round 2 may
  // already be under way; it waits for the straggler again.)
  ASSERT_EQ(driver_->Stats().dropped, std::vector<std::string>{"10.0.1.3:7070"});
  EXPECT_FLOAT_EQ(driver_->global()[0], 1.0f);  // the straggler's +100 never got in
}

TEST_F(RoundDriverTest, RepliesFailingTheUpdateScreenAreLeftOutAndCountedPerPeer) {
  AddParticipant(1.0f, 10);
  AddParticipant(3.0f, 10);
  AddParticipant(1000.0f, 10);                                // 2,000 (L2) from the global model
  AddParticipant(std::numeric_limits<float>::quiet_NaN(), 10);  // not finite
  RoundDriverOptions options;
  options.max_update_norm = 100;
  StartCoordinator(options);
  ASSERT_TRUE(RunUntil([&] { return driver_->Stats().round >= 2; }, milliseconds(5000)));
  ASSERT_GE(coordinator_worker_.published_.size(), 2u);
  EXPECT_FLOAT_EQ(coordinator_worker_.published_[0].second[0], 2.0f);  // (1 + 3) / 2: neither bad reply got in
  EXPECT_FLOAT_EQ(coordinator_worker_.published_[1].second[kParams - 1], 4.0f);
  RoundStats stats = driver_->Stats();
  std::sort(stats.participants.begin(), stats.participants.end());
  EXPECT_EQ(stats.participants, (std::vector<std::string>{"p1", "p2"}));
  EXPECT_EQ(stats.dropped.size(), 2u);
  ASSERT_EQ(stats.rejected_by_peer.size(), 2u);
  EXPECT_GE(stats.rejected_by_peer.at("p3@10.0.1.3"), 2u);
  EXPECT_GE(stats.rejected_by_peer.at("p4@10.0.1.4"), 2u);
  EXPECT_EQ(stats.rejected_replies, stats.rejected_by_peer.at("p3@10.0.1.3") + stats.rejected_by_peer.at("p4@10.0.1.4"));
}

TEST_F(RoundDriverTest, DeadParticipantDroppedByHeartbeatBeforeTheDeadline) {
  AddParticipant(1.0f, 10);
  AddParticipant(1.0f, 10);
  Participant& doomed = AddParticipant(1.0f, 10);
  doomed.worker->hold_ = true;
  RoundDriverOptions options;
  options.round_deadline = milliseconds(20000);
  StartCoordinator(options);
  ASSERT_TRUE(RunUntil([&] { return doomed.worker->trained_ > 0; }, milliseconds(2000)));
  network_.Crash(doomed.node.address);
  const auto crashed = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunUntil([&] { return driver_->Stats().round >= 1; }, milliseconds(5000)));
  EXPECT_LT(std::chrono::steady_clock::now() - crashed, milliseconds(3000));
  EXPECT_EQ(driver_->Stats().dropped_total, 1u);
  // Later rounds go on without it.
  ASSERT_TRUE(RunUntil([&] { return driver_->Stats().round >= 3; }, milliseconds(3000)));
  EXPECT_EQ(driver_->Stats().participants.size(), 2u);
}

TEST_F(RoundDriverTest, TooFewRepliesRetriesTheSameRound) {
  AddParticipant(1.0f, 10);
  AddParticipant(1.0f, 10).worker->hold_ = true;
  RoundDriverOptions options;
  options.round_deadline = milliseconds(100);
  StartCoordinator(options);
  ASSERT_TRUE(RunUntil([&] { return driver_->Stats().rounds_retried >= 2; }, milliseconds(3000)));
  EXPECT_EQ(driver_->Stats().round, 0u);
  EXPECT_TRUE(coordinator_worker_.published_.empty());
}

TEST_F(RoundDriverTest, ParticipantsFallBackToGossipFromTheLastGlobalModel) {
  AddParticipant(1.0f, 10);
  AddParticipant(1.0f, 10);
  StartCoordinator(RoundDriverOptions{});
  ASSERT_TRUE(RunUntil([&] { return driver_->Stats().round >= 2; }, milliseconds(3000)));
  driver_->Stop();
  network_.Crash(coordinator_.address);
  const auto crashed = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunUntil([&] { return !participants_[0].participant->Stats().federated &&
                                    !participants_[1].participant->Stats().federated; },
                       milliseconds(3000)));
  EXPECT_LT(std::chrono::steady_clock::now() - crashed, failover_ + milliseconds(500));
  EXPECT_GE(std::chrono::steady_clock::now() - crashed, failover_ - milliseconds(100));
  for (Participant& p : participants_) {
    EXPECT_FALSE(p.worker->federated_);
    ASSERT_EQ(p.worker->resumed_from_.size(), kParams);
    EXPECT_GE(p.worker->resumed_from_[0], 1.0f);  // a global model, not the initial zeros
    EXPECT_EQ(p.participant->Stats().coordinator, "");
  }
}

TEST_F(RoundDriverTest, CoordinatorThatStopsRunningRoundsIsLeftThoughItAnswersProbes) {
  AddParticipant(1.0f, 10);
  AddParticipant(1.0f, 10);
  StartCoordinator(RoundDriverOptions{});
  ASSERT_TRUE(RunUntil([&] { return driver_->Stats().round >= 2; }, milliseconds(3000)));
  driver_->Stop();  // its engine still answers Ping, Hello and exchanges
  const auto stopped = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunUntil([&] { return !participants_[0].participant->Stats().federated &&
                                    !participants_[1].participant->Stats().federated; },
                       failover_ + milliseconds(1000)));
  EXPECT_GE(std::chrono::steady_clock::now() - stopped, failover_ - milliseconds(100));
  EXPECT_EQ(StateSeenBy(*participants_[0].node.engine, coordinator_.address), "alive");
}

TEST_F(RoundDriverTest, AnnouncedCoordinatorIsFollowedOnlyOnceItRunsRounds) {
  Participant& p = AddParticipant(1.0f, 10);
  coordinator_ = MakeCoordinatorNode("coord", "10.0.0.1:7070");
  ASSERT_TRUE(coordinator_.engine->Start().ok());
  ASSERT_TRUE(Verified(p, coordinator_.address));  // its Hello said "coordinator"...
  io_.run_for(milliseconds(200));
  EXPECT_FALSE(p.participant->Stats().federated);  // ... which pauses nothing
  EXPECT_TRUE(Ask(*coordinator_.transport, p, MakeRoundRequest("coord", coordinator_.address, std::vector<float>(kParams, 1.0f)))
                  .ok());
  EXPECT_TRUE(p.participant->Stats().federated);
  EXPECT_EQ(p.participant->Stats().coordinator, "coord");
}

TEST_F(RoundDriverTest, UnsolicitedRoundRequestsTakeNothingOverAndAddNoPeer) {
  Participant& p = AddParticipant(1.0f, 10);
  Participant& honest = AddParticipant(1.0f, 10);
  p.node.engine->AddPeer(honest.node.address, "static");
  ASSERT_TRUE(RunUntil([&] { return p.node.engine->Stats().exchanges_ok >= 2; }, milliseconds(2000)));
  std::unique_ptr<Transport> attacker = network_.NewTransport("10.0.6.6:1");
  // It names the honest plain peer as its coordinator, by id and by address ...
  EXPECT_EQ(Ask(*attacker, p, MakeRoundRequest("p2", honest.node.address, std::vector<float>(kParams, 5.0f))).code(),
            Status::Code::kRejected);
  // ... and made-up coordinators at addresses nothing vouches for.
  for (int i = 0; i < 20; ++i) {
    const std::string made_up = "10.7.7." + std::to_string(i) + ":7070";
    EXPECT_EQ(Ask(*attacker, p, MakeRoundRequest("evil" + std::to_string(i), made_up, std::vector<float>(kParams, 5.0f)))
                  .code(),
              Status::Code::kRejected);
  }
  io_.run_for(milliseconds(300));
  EXPECT_FALSE(p.participant->Stats().federated);
  EXPECT_EQ(p.worker->trained_, 0);
  EXPECT_EQ(p.participant->Stats().requests_refused, 21u);
  ASSERT_EQ(p.node.engine->Peers().size(), 1u);
  EXPECT_EQ(p.node.engine->Peers()[0].address, honest.node.address);
  EXPECT_EQ(StateSeenBy(*p.node.engine, honest.node.address), "alive");
}

TEST_F(RoundDriverTest, RoundRequestsDoNotTurnIntoAStreamOfHellosToADownPeer) {
  Participant& p = AddParticipant(1.0f, 10);
  const std::string down = "10.0.9.9:7070";  // a static peer nobody listens on
  p.node.engine->AddPeer(down, "static");
  ASSERT_TRUE(RunUntil([&] { return StateSeenBy(*p.node.engine, down) == "dead"; }, milliseconds(2000)));
  auto failures = [&] {
    for (const PeerStatus& peer : p.node.engine->Peers()) {
      if (peer.address == down) return peer.failures;
    }
    return std::uint64_t{0};
  };
  const std::uint64_t before = failures();
  std::unique_ptr<Transport> attacker = network_.NewTransport("10.0.6.6:1");
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(Ask(*attacker, p, MakeRoundRequest("who", down, std::vector<float>(kParams, 0.0f))).code(),
              Status::Code::kRejected);
  }
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // One Hello per retry_backoff_base (100 ms here) at most, plus its backed-off probes.
  EXPECT_LE(failures() - before, 2 + static_cast<std::uint64_t>(elapsed_s * 10 * 2)) << elapsed_s << " s";
  EXPECT_FALSE(p.participant->Stats().federated);
}

TEST_F(RoundDriverTest, RoundFieldsOutOfRangeAreInvalid) {
  auto with = [](auto change) {
    RoundRequest request = MakeRoundRequest("coord", "10.0.0.1:7070", std::vector<float>(kParams, 0.0f));
    change(request);
    return ValidateRoundRequest(request);
  };
  EXPECT_TRUE(with([](RoundRequest&) {}).ok());
  EXPECT_FALSE(with([](RoundRequest& r) { r.learning_rate = std::numeric_limits<float>::quiet_NaN(); }).ok());
  EXPECT_FALSE(with([](RoundRequest& r) { r.learning_rate = std::numeric_limits<float>::infinity(); }).ok());
  EXPECT_FALSE(with([](RoundRequest& r) { r.learning_rate = 0; }).ok());
  EXPECT_FALSE(with([](RoundRequest& r) { r.learning_rate = -1e-3f; }).ok());
  EXPECT_FALSE(with([](RoundRequest& r) { r.learning_rate = 1.0f; }).ok());
  EXPECT_FALSE(with([](RoundRequest& r) { r.batch_size = 0; }).ok());
  EXPECT_FALSE(with([](RoundRequest& r) { r.batch_size = kMaxRoundBatchSize + 1; }).ok());
  EXPECT_FALSE(with([](RoundRequest& r) { r.epochs = 0; }).ok());
  EXPECT_FALSE(with([](RoundRequest& r) { r.epochs = std::numeric_limits<std::uint32_t>::max(); }).ok());
  EXPECT_FALSE(with([](RoundRequest& r) { r.coordinator_id.clear(); }).ok());
  EXPECT_TRUE(with([](RoundRequest& r) { r.epochs = kMaxRoundEpochs, r.batch_size = kMaxRoundBatchSize; }).ok());
}

TEST_F(RoundDriverTest, VerifiedCoordinatorsBadRoundsAreRefusedAndTrainNothing) {
  participant_max_update_norm_ = 100;
  Participant& p = AddParticipant(1.0f, 10);
  coordinator_ = MakeCoordinatorNode("coord", "10.0.0.1:7070");
  ASSERT_TRUE(coordinator_.engine->Start().ok());
  ASSERT_TRUE(Verified(p, coordinator_.address));
  Transport& from = *coordinator_.transport;
  auto request = [&](auto change) {
    RoundRequest r = MakeRoundRequest("coord", coordinator_.address, std::vector<float>(kParams, 0.5f));
    change(r);
    return Ask(from, p, r);
  };
  EXPECT_NE(request([](RoundRequest& r) { r.learning_rate = std::numeric_limits<float>::quiet_NaN(); })
                .message().find("learning rate"), std::string::npos);
  EXPECT_NE(request([](RoundRequest& r) { r.batch_size = 0; }).message().find("batch size"), std::string::npos);
  EXPECT_NE(request([](RoundRequest& r) { r.epochs = std::numeric_limits<std::uint32_t>::max(); })
                .message().find("epochs"), std::string::npos);
  // A finite model far beyond the update bound (4 x the local norm; the local model is all zeros here).
  EXPECT_NE(request([](RoundRequest& r) { r.model.params.assign(kParams, 1e30f); }).message().find("update norm"),
            std::string::npos);
  EXPECT_NE(request([](RoundRequest& r) { r.model.params[1] = std::numeric_limits<float>::quiet_NaN(); })
                .message().find("not finite"), std::string::npos);
  EXPECT_EQ(p.worker->trained_, 0);
  EXPECT_FALSE(p.participant->Stats().federated);
  EXPECT_EQ(p.participant->Stats().requests_refused, 5u);
  EXPECT_TRUE(request([](RoundRequest&) {}).ok());  // and a good one is served
  EXPECT_EQ(p.worker->trained_, 1);
}

TEST_F(RoundDriverTest, ParticipantFollowsTheSmallestCoordinatorId) {
  Participant& p = AddParticipant(1.0f, 10);
  TestNode zeta = MakeCoordinatorNode("zeta", "10.0.0.8:7070");
  TestNode alpha = MakeCoordinatorNode("alpha", "10.0.0.9:7070");
  ASSERT_TRUE(zeta.engine->Start().ok());
  ASSERT_TRUE(alpha.engine->Start().ok());
  ASSERT_TRUE(Verified(p, zeta.address) && Verified(p, alpha.address));
  const std::vector<float> model(kParams, 0.0f);
  EXPECT_TRUE(Ask(*zeta.transport, p, MakeRoundRequest("zeta", zeta.address, model)).ok());
  EXPECT_EQ(p.participant->Stats().coordinator, "zeta");
  EXPECT_TRUE(Ask(*alpha.transport, p, MakeRoundRequest("alpha", alpha.address, model)).ok());  // smaller id: takes over
  EXPECT_EQ(p.participant->Stats().coordinator, "alpha");
  EXPECT_EQ(Ask(*zeta.transport, p, MakeRoundRequest("zeta", zeta.address, model)).code(), Status::Code::kRejected);
  EXPECT_EQ(p.participant->Stats().requests_refused, 1u);
  zeta.engine->Stop();
  alpha.engine->Stop();
}

}  // namespace
}  // namespace gl::gossip

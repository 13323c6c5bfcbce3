// RoundParticipant alone, on InMemoryNetwork (one case on TCP): round requests sent by hand
// from coordinator nodes (engines with role "coordinator") and from strangers; training is
// faked (global + delta). What it promises (round_participant.h): it serves only valid
// requests from a coordinator it verified, follows it from its first round, leaves it after
// failover_timeout without rounds (a round training here keeps it followed while its probes
// answer), and keeps a RoundRequest open for the round deadline, not the I/O timeout.
#include "gossip/rounds/round_participant.h"

#include <gtest/gtest.h>

#include <deque>
#include <limits>

#include "gossip/wire/tcp_transport.h"
#include "round_test_util.h"

namespace gl::gossip {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kFailover{300};
constexpr char kParticipantAddress[] = "10.0.1.1:7070";

class RoundParticipantTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = MakeRoundTestNode(network_, io_, kParticipantAddress, FastRoundEngineOptions("p1"));
    participant_ = std::make_unique<RoundParticipant>(io_, ParticipantOptions{"p1", kSignature, kParams, kFailover},
                                                      *node_.engine, worker_);
    ASSERT_TRUE(node_.engine->Start().ok());
    participant_->Start();
  }
  void TearDown() override {
    participant_->Stop();
    for (TestNode& c : coordinators_) c.engine->Stop();
    node_.engine->Stop();
  }

  // A started node at `address` whose Hello says `role`; the participant knows it as a static peer.
  TestNode& AddPeerNode(const std::string& id, const std::string& address, const std::string& role = "coordinator") {
    Options options = FastRoundEngineOptions(id);
    options.role = role;
    coordinators_.push_back(MakeRoundTestNode(network_, io_, address, options));
    EXPECT_TRUE(coordinators_.back().engine->Start().ok());
    node_.engine->AddPeer(address, "static");
    return coordinators_.back();
  }
  // A coordinator node the participant has verified (its own Hello said so).
  TestNode& AddVerifiedCoordinator(const std::string& id, const std::string& address) {
    TestNode& c = AddPeerNode(id, address);
    EXPECT_TRUE(RunUntil(io_, [&] { return SeesCoordinatorAt(*node_.engine, address); }, milliseconds(2000)));
    return c;
  }
  Result<RoundReply> Ask(Transport& from, const RoundRequest& request) {
    return AskRound(io_, from, kParticipantAddress, request);
  }
  Result<RoundReply> AskFrom(TestNode& coordinator, const std::string& id, std::vector<float> model) {
    return Ask(*coordinator.transport, MakeRoundRequest(id, coordinator.address, std::move(model)));
  }
  ParticipantStats Stats() const { return participant_->Stats(); }

  asio::io_context io_;
  InMemoryNetwork network_{io_};
  TestNode node_;
  FakeWorker worker_{1.0f, 10};
  std::unique_ptr<RoundParticipant> participant_;
  std::deque<TestNode> coordinators_;  // AddPeerNode hands out references: they must stay put
};

TEST_F(RoundParticipantTest, FollowsAVerifiedCoordinatorFromItsFirstRound) {
  TestNode& coord = AddVerifiedCoordinator("coord", "10.0.0.1:7070");
  EXPECT_FALSE(Stats().federated);
  Result<RoundReply> reply = AskFrom(coord, "coord", std::vector<float>(kParams, 2.0f));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->sender_id, "p1");
  EXPECT_EQ(reply->round, 1u);
  EXPECT_EQ(reply->model.params, std::vector<float>(kParams, 3.0f));  // the global model + the fake training
  EXPECT_EQ(reply->model.local_samples, 10u);
  EXPECT_TRUE(Stats().federated);
  EXPECT_EQ(Stats().coordinator, "coord");
  EXPECT_EQ(Stats().rounds_served, 1u);
  EXPECT_TRUE(worker_.federated_);
}

TEST_F(RoundParticipantTest, RefusesACoordinatorItHasNotVerified) {
  const std::vector<float> model(kParams, 1.0f);
  // Not a peer at all.
  std::unique_ptr<Transport> stranger = network_.NewTransport("10.0.6.6:7070");
  EXPECT_EQ(Ask(*stranger, MakeRoundRequest("stranger", "10.0.6.6:7070", model)).status().code(),
            Status::Code::kRejected);
  // A known peer whose own Hello said it is a plain node.
  TestNode& plain = AddPeerNode("plain", "10.0.0.2:7070", "node");
  ASSERT_TRUE(RunUntil(io_, [&] { return node_.engine->Peers().at(0).handshaken; }, milliseconds(2000)));
  EXPECT_EQ(AskFrom(plain, "plain", model).status().code(), Status::Code::kRejected);
  // A verified coordinator's id, claimed from another host.
  AddVerifiedCoordinator("coord", "10.0.0.1:7070");
  Result<RoundReply> claimed = Ask(*stranger, MakeRoundRequest("coord", "10.0.0.1:7070", model));
  EXPECT_EQ(claimed.status().code(), Status::Code::kRejected);
  EXPECT_NE(claimed.status().message().find("must come from its host"), std::string::npos) << claimed.status().message();

  EXPECT_EQ(Stats().requests_refused, 3u);
  EXPECT_EQ(worker_.trained_, 0);
  EXPECT_FALSE(Stats().federated);
}

TEST_F(RoundParticipantTest, AnswersOnlyValidRoundRequests) {
  TestNode& coord = AddVerifiedCoordinator("coord", "10.0.0.1:7070");
  Transport& from = *coord.transport;
  auto ask = [&](auto change) {
    RoundRequest request = MakeRoundRequest("coord", coord.address, std::vector<float>(kParams, 0.5f));
    change(request);
    return AskRound(io_, from, kParticipantAddress, request).status();
  };
  // Not a RoundRequest body at all.
  EXPECT_EQ(AskRound(io_, from, kParticipantAddress, Frame{MessageType::kRoundRequest, {1, 2, 3}}).status().code(),
            Status::Code::kRejected);
  EXPECT_EQ(ask([](RoundRequest& r) { r.coordinator_id.clear(); }).code(), Status::Code::kRejected);
  EXPECT_EQ(ask([](RoundRequest& r) { r.epochs = 0; }).code(), Status::Code::kRejected);
  EXPECT_EQ(ask([](RoundRequest& r) { r.batch_size = kMaxRoundBatchSize + 1; }).code(), Status::Code::kRejected);
  EXPECT_EQ(ask([](RoundRequest& r) { r.learning_rate = kMaxRoundLearningRate; }).code(), Status::Code::kRejected);
  EXPECT_EQ(ask([](RoundRequest& r) { r.model.signature = "another-model"; }).code(), Status::Code::kRejected);
  EXPECT_EQ(ask([](RoundRequest& r) { r.model.params.pop_back(); }).code(), Status::Code::kRejected);
  EXPECT_EQ(ask([](RoundRequest& r) { r.model.params[2] = std::numeric_limits<float>::infinity(); }).code(),
            Status::Code::kRejected);
  EXPECT_EQ(worker_.trained_, 0);
  EXPECT_EQ(Stats().requests_refused, 8u);
  EXPECT_FALSE(Stats().federated);
  EXPECT_TRUE(ask([](RoundRequest&) {}).ok());
  EXPECT_EQ(worker_.trained_, 1);
}

TEST_F(RoundParticipantTest, FailsOverAfterFailoverTimeoutWithoutRounds) {
  TestNode& coord = AddVerifiedCoordinator("coord", "10.0.0.1:7070");
  ASSERT_TRUE(AskFrom(coord, "coord", std::vector<float>(kParams, 2.0f)).ok());
  const Clock::time_point last_round = Clock::now();
  // Its probes still answer: only rounds keep a coordinator followed.
  ASSERT_TRUE(RunUntil(io_, [&] { return !Stats().federated; }, kFailover + milliseconds(1500)));
  EXPECT_GE(Clock::now() - last_round, kFailover);
  EXPECT_EQ(Stats().coordinator, "");
  EXPECT_FALSE(worker_.federated_);
  EXPECT_EQ(worker_.resumed_from_, std::vector<float>(kParams, 2.0f));  // gossip resumes from the last global model
  EXPECT_EQ(StateSeenBy(*node_.engine, coord.address), "alive");
}

TEST_F(RoundParticipantTest, ARoundTrainingHereKeepsItsCoordinatorFollowedWhileItsProbesAnswer) {
  TestNode& coord = AddVerifiedCoordinator("coord", "10.0.0.1:7070");
  worker_.hold_ = true;  // a long round: training has not finished
  coord.transport->Request(kParticipantAddress, EncodeMessage(MakeRoundRequest("coord", coord.address, {0, 0, 0, 0})),
                           milliseconds(60000), [](Status, Frame) {});
  ASSERT_TRUE(RunUntil(io_, [&] { return worker_.trained_ == 1; }, milliseconds(2000)));
  io_.run_for(3 * kFailover);  // three failover timeouts without a round, its probes answering
  EXPECT_TRUE(Stats().federated) << "a coordinator whose round trains here was left";
  // Once it stops answering too, it is left.
  network_.Crash(coord.address);
  const Clock::time_point crashed = Clock::now();
  ASSERT_TRUE(RunUntil(io_, [&] { return !Stats().federated; }, kFailover + milliseconds(1500)));
  EXPECT_GE(Clock::now() - crashed, kFailover - milliseconds(50));
}

// Over TCP the serving transport cuts a reply off at its io_timeout unless the handler says
// otherwise: the participant keeps a RoundRequest open for reply_deadline while it trains.
TEST(RoundParticipantTcpTest, ARoundTrainingLongerThanTheIoTimeoutIsStillAnswered) {
  asio::io_context io;
  struct TcpNode {
    std::unique_ptr<TcpTransport> transport;
    std::unique_ptr<MergingStore> store;
    std::unique_ptr<Engine> engine;
  };
  auto make = [&](const std::string& id, const std::string& role) {
    Options options = FastRoundEngineOptions(id);
    options.role = role;
    options.exchange_timeout = milliseconds(200);  // the transport's io_timeout
    TcpNode node;
    Result<std::unique_ptr<TcpTransport>> transport = TcpTransport::Create(io, "127.0.0.1:0", TransportOptions(options));
    EXPECT_TRUE(transport.ok()) << transport.status().ToString();
    node.transport = std::move(transport).value();
    node.store = std::make_unique<MergingStore>(ModelSnapshot{kSignature, std::vector<float>(kParams, 0.0f), 1, 10});
    node.engine = std::make_unique<Engine>(io, options, *node.transport, *node.store);
    EXPECT_TRUE(node.engine->Start().ok());
    return node;
  };
  TcpNode participant_node = make("p1", "node");
  TcpNode coordinator = make("coord", "coordinator");
  const std::string coordinator_address = coordinator.transport->LocalAddress();
  participant_node.engine->AddPeer(coordinator_address, "static");

  FakeWorker worker(1.0f, 10);
  worker.hold_ = true;
  ParticipantOptions options{"p1", kSignature, kParams, milliseconds(60000), milliseconds(5000)};
  RoundParticipant participant(io, options, *participant_node.engine, worker);
  participant.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return SeesCoordinatorAt(*participant_node.engine, coordinator_address); },
                       milliseconds(3000)));

  std::optional<Status> outcome;
  coordinator.transport->Request(participant_node.transport->LocalAddress(),
                                 EncodeMessage(MakeRoundRequest("coord", coordinator_address, {0, 0, 0, 0})),
                                 milliseconds(5000), [&](Status status, Frame) { outcome = status; });
  ASSERT_TRUE(RunUntil(io, [&] { return worker.trained_ == 1; }, milliseconds(2000)));
  const Clock::time_point training_started = Clock::now();
  ASSERT_TRUE(RunUntil(io, [&] { return Clock::now() - training_started > milliseconds(600); }, milliseconds(2000)));
  EXPECT_FALSE(outcome.has_value()) << "the request ended while the round trained: " << outcome->ToString();
  worker.held_.front()(LocalTraining{std::vector<float>(kParams, 1.0f), 10, 600});
  ASSERT_TRUE(RunUntil(io, [&] { return outcome.has_value(); }, milliseconds(2000)));
  EXPECT_TRUE(outcome->ok()) << outcome->ToString();
  participant.Stop();
  participant_node.engine->Stop();
  coordinator.engine->Stop();
}

}  // namespace
}  // namespace gl::gossip

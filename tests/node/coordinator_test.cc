// node::Coordinator with real engines on an InMemoryNetwork and a worker that trains by
// adding 1: what coordinator.h promises. It builds the named strategy, resumes from the last
// completed round in the state dir (fresh starts at 0, a damaged round file is an error),
// keeps its own gossip initiation paused, runs rounds, and answers another coordinator's
// RoundRequest with an Error.
#include "node/coordinator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>

#include "gossip/wire/codec.h"
#include "gossip/wire/in_memory_transport.h"
#include "node/round_state.h"

namespace gl::node {
namespace {

using std::chrono::milliseconds;
constexpr char kSignature[] = "test-model";
constexpr std::size_t kParams = 4;
constexpr char kCoordinatorAddress[] = "10.0.0.1:7070";

// Trains by adding 1 to every parameter and records which rounds were published.
class AddOneWorker : public gossip::RoundWorker {
 public:
  void Train(std::uint64_t, std::vector<float> global, const gossip::RoundConfig&, TrainDone done) override {
    for (float& v : global) v += 1.0f;
    done(gossip::LocalTraining{std::move(global), 10, 1});
  }
  void SetFederated(bool, const std::vector<float>&) override {}
  void PublishGlobal(std::uint64_t round, const std::vector<float>&, gossip::ServerOptimizerState) override {
    published.push_back(round);
  }
  std::vector<std::uint64_t> published;
};

// Runs `io` until `done` holds; false if `deadline` passes first.
bool RunUntil(asio::io_context& io, const std::function<bool()>& done, milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    io.restart();
    io.run_for(milliseconds(10));
  }
  return true;
}

class CoordinatorTest : public ::testing::Test {
 protected:
  struct Node {
    std::unique_ptr<gossip::Transport> transport;
    std::unique_ptr<gossip::ModelStore> store;
    std::unique_ptr<gossip::Engine> engine;
  };
  // A model store that never changes: the coordinator's engine only answers exchanges.
  class FixedStore : public gossip::ModelStore {
   public:
    gossip::ModelSnapshot Snapshot() override { return {kSignature, std::vector<float>(kParams, 0.0f), 1, 10}; }
    void Offer(gossip::ReceivedModel) override { ++offers; }
    int offers = 0;
  };

  CoordinatorTest() {
    std::random_device rd;
    state_dir_ = (std::filesystem::path(::testing::TempDir()) / ("gl-coord-" + std::to_string(rd()))).string();
    std::filesystem::create_directories(state_dir_);
    config_.state_dir = state_dir_;
    config_.min_nodes = 1;
    config_.coordinator_trains = true;  // rounds complete with this node alone
    config_.round_deadline_s = 2;
  }
  ~CoordinatorTest() override {
    if (coordinator_) coordinator_->Stop();
    for (Node* node : {&peer_, &node_}) {
      if (node->engine) node->engine->Stop();
    }
    std::filesystem::remove_all(state_dir_);
  }

  Node MakeNode(const std::string& id, const std::string& address, const std::string& role,
                milliseconds gossip_interval) {
    gossip::Options options = gossip::DefaultLocalOptions();
    options.node_id = id;
    options.role = role;
    options.gossip_interval = gossip_interval;
    Node node;
    node.transport = network_.NewTransport(address);
    node.store = std::make_unique<FixedStore>();
    node.engine = std::make_unique<gossip::Engine>(io_, options, *node.transport, *node.store);
    return node;
  }

  Result<std::unique_ptr<Coordinator>> Create() {
    node_ = MakeNode("coord", kCoordinatorAddress, "coordinator", milliseconds(20));
    return Coordinator::Create(io_, config_, "coord", kCoordinatorAddress, kSignature,
                               std::vector<float>(kParams, 0.0f), *node_.engine, *node_.transport, worker_);
  }
  void CreateAndStart() {
    Result<std::unique_ptr<Coordinator>> created = Create();
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    coordinator_ = std::move(created).value();
    ASSERT_TRUE(node_.engine->Start().ok());
    coordinator_->Start();
  }

  asio::io_context io_;
  gossip::InMemoryNetwork network_{io_};
  std::string state_dir_;
  Config config_;
  AddOneWorker worker_;
  Node node_, peer_;
  std::unique_ptr<Coordinator> coordinator_;
};

TEST(MakeStrategyTest, BuildsEachChoiceAsADistinctStrategy) {
  const gossip::FedAvgOptions options;
  std::set<std::string> summaries;
  for (StrategyChoice choice : {StrategyChoice::kFedAvg, StrategyChoice::kFedNova, StrategyChoice::kTrimmedMean}) {
    Result<std::unique_ptr<gossip::Strategy>> strategy = MakeStrategy(choice, options);
    ASSERT_TRUE(strategy.ok()) << NameOf(choice) << ": " << strategy.status().ToString();
    summaries.insert((*strategy)->Summary());
  }
  EXPECT_EQ(summaries.size(), 3u) << "two choices built the same strategy";
  gossip::FedAvgOptions invalid;
  invalid.min_nodes = 0;
  EXPECT_EQ(MakeStrategy(StrategyChoice::kFedAvg, invalid).status().code(), Status::Code::kInvalidArgument);
}

TEST_F(CoordinatorTest, RunsRoundsFromTheLastCompletedRoundInTheStateDir) {
  ASSERT_TRUE(SaveLastRound(state_dir_, 7).ok());
  CreateAndStart();
  EXPECT_EQ(coordinator_->Stats().round, 7u);
  ASSERT_TRUE(RunUntil(io_, [&] { return worker_.published.size() >= 2; }, milliseconds(3000)));
  EXPECT_EQ(worker_.published[0], 8u);
  EXPECT_EQ(worker_.published[1], 9u);
}

TEST_F(CoordinatorTest, FreshStartsAtRoundZero) {
  ASSERT_TRUE(SaveLastRound(state_dir_, 7).ok());
  config_.fresh = true;
  CreateAndStart();
  EXPECT_EQ(coordinator_->Stats().round, 0u);
  ASSERT_TRUE(RunUntil(io_, [&] { return !worker_.published.empty(); }, milliseconds(3000)));
  EXPECT_EQ(worker_.published[0], 1u);
}

TEST_F(CoordinatorTest, ADamagedRoundFileIsAnError) {
  std::ofstream(state_dir_ + "/round") << "seven";
  Result<std::unique_ptr<Coordinator>> created = Create();
  EXPECT_EQ(created.status().code(), Status::Code::kCorruption) << created.status().ToString();
}

TEST_F(CoordinatorTest, KeepsItsOwnGossipPausedAndRefusesOtherCoordinatorsRounds) {
  // A peer that never starts an exchange: any exchange it answers was started by the coordinator.
  peer_ = MakeNode("peer", "10.0.0.2:7070", "node", milliseconds(0));
  ASSERT_TRUE(peer_.engine->Start().ok());
  Result<std::unique_ptr<Coordinator>> created = Create();
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  coordinator_ = std::move(created).value();
  node_.engine->AddPeer("10.0.0.2:7070", "static");
  ASSERT_TRUE(node_.engine->Start().ok());
  coordinator_->Start();

  std::optional<std::string> refusal;
  gossip::RoundRequest request{"other-coord", "10.0.0.9:7070", 1,
                               gossip::ModelSnapshot{kSignature, std::vector<float>(kParams, 0.0f), 0, 0}};
  peer_.transport->Request(kCoordinatorAddress, gossip::EncodeMessage(request), milliseconds(1000),
                           [&](Status status, gossip::Frame reply) {
                             Result<gossip::Error> error = gossip::DecodeMessage<gossip::Error>(reply);
                             refusal = status.ok() && error.ok() ? error->reason : "no Error: " + status.ToString();
                           });
  ASSERT_TRUE(RunUntil(io_, [&] { return refusal.has_value(); }, milliseconds(2000)));
  EXPECT_NE(refusal->find("is a coordinator and serves no rounds"), std::string::npos) << *refusal;

  // Rounds go on meanwhile (the peer refuses them; this node trains), and across them, 25
  // gossip intervals, the coordinator starts no exchange.
  ASSERT_TRUE(RunUntil(io_, [&] { return worker_.published.size() >= 3; }, milliseconds(3000)));
  io_.restart();
  io_.run_for(milliseconds(500));
  EXPECT_EQ(peer_.engine->Stats().exchanges_ok, 0u);
  EXPECT_EQ(static_cast<FixedStore&>(*peer_.store).offers, 0);
}

}  // namespace
}  // namespace gl::node

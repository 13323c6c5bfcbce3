// The server optimizer's state file: a saved state comes back exactly and a restored strategy
// continues the run as if there had been no restart; a missing, damaged, other-round,
// other-kind or other-size state is refused (the optimizer stays at zero), never a crash.
#include "node/server_optimizer_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gossip/rounds/fedavg.h"

namespace gl::node {
namespace {
namespace fs = std::filesystem;

gossip::FedAvg MakeFedAvg(const std::string& kind) {
  gossip::FedAvgOptions options;
  options.server = gossip::ServerOptimizerOptions{kind, 0.5, 0.5, 0.1};
  return gossip::FedAvg(options);
}

// One round of `strategy` from `global`, with a single participant that moved to `params`.
std::vector<float> Aggregate(gossip::FedAvg& strategy, std::uint64_t round, const std::vector<float>& global,
                             std::vector<float> params) {
  return *strategy.Aggregate(round, global, {gossip::RoundResult{"p1", std::move(params), 10}}, {});
}

class ServerOptimizerFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/server_optimizer_file_test_" + std::to_string(::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path() const { return dir_ + "/server_optimizer"; }

  std::string dir_;
};

TEST_F(ServerOptimizerFileTest, SavedStateLoadsBackExactly) {
  const gossip::ServerOptimizerState state{"adam", {0.1, -2.5e-7, 3.0}, {1e-12, 0.25, 9.0}};
  ASSERT_TRUE(SaveServerOptimizerState(dir_, 7, state).ok());
  Result<SavedServerOptimizerState> loaded = LoadServerOptimizerState(dir_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->round, 7u);
  EXPECT_EQ(loaded->state.kind, "adam");
  EXPECT_EQ(loaded->state.first, state.first);
  EXPECT_EQ(loaded->state.second, state.second);
}

TEST_F(ServerOptimizerFileTest, RestartedStrategyContinuesWithTheSameMomentum) {
  for (const char* kind : {"sgd", "adam"}) {
    gossip::FedAvg before = MakeFedAvg(kind);
    std::vector<float> global = Aggregate(before, 1, {0.0f, 1.0f}, {2.0f, -1.0f});
    global = Aggregate(before, 2, global, {3.0f, 0.0f});
    ASSERT_TRUE(SaveServerOptimizerState(dir_, 2, before.ServerState()).ok());

    gossip::FedAvg after = MakeFedAvg(kind);
    ASSERT_TRUE(ResumeServerOptimizer(dir_, 2, global.size(), after).ok()) << kind;
    EXPECT_EQ(after.ServerState().first, before.ServerState().first) << kind;
    EXPECT_EQ(after.ServerState().second, before.ServerState().second) << kind;
    EXPECT_EQ(Aggregate(after, 3, global, {1.0f, 1.0f}), Aggregate(before, 3, global, {1.0f, 1.0f})) << kind;
  }
}

TEST_F(ServerOptimizerFileTest, MissingFileIsNotFound) {
  gossip::FedAvg strategy = MakeFedAvg("sgd");
  EXPECT_EQ(ResumeServerOptimizer(dir_, 3, 2, strategy).code(), Status::Code::kNotFound);
  EXPECT_TRUE(strategy.ServerState().first.empty());
}

TEST_F(ServerOptimizerFileTest, DamagedFilesAreRefused) {
  ASSERT_TRUE(SaveServerOptimizerState(dir_, 3, gossip::ServerOptimizerState{"sgd", {1.0, 2.0}, {}}).ok());
  const std::uintmax_t size = fs::file_size(path());
  {
    std::fstream f(path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size - 12));  // inside the last value
    f.put('\x5a');
  }
  gossip::FedAvg strategy = MakeFedAvg("sgd");
  const Status flipped = ResumeServerOptimizer(dir_, 3, 2, strategy);
  EXPECT_EQ(flipped.code(), Status::Code::kCorruption);
  EXPECT_NE(flipped.message().find("checksum"), std::string::npos) << flipped.message();

  fs::resize_file(path(), size / 2);  // a write cut short
  EXPECT_EQ(ResumeServerOptimizer(dir_, 3, 2, strategy).code(), Status::Code::kCorruption);
  std::ofstream(path(), std::ios::trunc) << "3\n";  // not this format at all
  EXPECT_EQ(ResumeServerOptimizer(dir_, 3, 2, strategy).code(), Status::Code::kCorruption);
  EXPECT_TRUE(strategy.ServerState().first.empty());
}

TEST_F(ServerOptimizerFileTest, StateOfAnotherRoundIsRefused) {
  // Saved after round 4, but the round counter says 3: the process died between the two writes.
  ASSERT_TRUE(SaveServerOptimizerState(dir_, 4, gossip::ServerOptimizerState{"sgd", {1.0, 2.0}, {}}).ok());
  gossip::FedAvg strategy = MakeFedAvg("sgd");
  const Status s = ResumeServerOptimizer(dir_, 3, 2, strategy);
  EXPECT_EQ(s.code(), Status::Code::kRejected);
  EXPECT_NE(s.message().find("round 4"), std::string::npos) << s.message();
  EXPECT_TRUE(strategy.ServerState().first.empty());
}

TEST_F(ServerOptimizerFileTest, StateOfAnotherKindOrModelSizeIsRefused) {
  ASSERT_TRUE(SaveServerOptimizerState(dir_, 3, gossip::ServerOptimizerState{"sgd", {1.0, 2.0}, {}}).ok());
  gossip::FedAvg adam = MakeFedAvg("adam");
  EXPECT_EQ(ResumeServerOptimizer(dir_, 3, 2, adam).code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(adam.ServerState().first.empty());
  gossip::FedAvg bigger = MakeFedAvg("sgd");
  EXPECT_EQ(ResumeServerOptimizer(dir_, 3, 5, bigger).code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(bigger.ServerState().first.empty());
}

}  // namespace
}  // namespace gl::node

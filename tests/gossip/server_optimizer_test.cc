// ServerOptimizer: plain FedAvg, FedAvgM and FedAdam steps against values computed by hand;
// State() / Restore() continue a run exactly, and refuse a state of another kind or size.
#include <gtest/gtest.h>

#include "gossip/rounds/server_optimizer.h"

namespace gl::gossip {
namespace {

TEST(ServerOptimizerTest, DefaultStepsAllTheWayToTheAggregate) {
  ServerOptimizer plain(ServerOptimizerOptions{});
  const std::vector<float> next = plain.Step({1.0f, -2.0f}, {3.5, 0.25});
  EXPECT_FLOAT_EQ(next[0], 3.5f);
  EXPECT_FLOAT_EQ(next[1], 0.25f);
}

TEST(ServerOptimizerTest, SgdWithLearningRateAndMomentum) {
  ServerOptimizer sgd(ServerOptimizerOptions{"sgd", 0.5, 0.5, 1e-3});
  // d = 2, v = 2, x = 0 + 0.5 x 2.
  EXPECT_FLOAT_EQ(sgd.Step({0.0f}, {2.0})[0], 1.0f);
  // d = 2, v = 0.5 x 2 + 2 = 3, x = 1 + 0.5 x 3.
  EXPECT_FLOAT_EQ(sgd.Step({1.0f}, {3.0})[0], 2.5f);
}

TEST(ServerOptimizerTest, AdamStepsByTheRatioOfItsMoments) {
  ServerOptimizer adam(ServerOptimizerOptions{"adam", 0.5, 0.0, 0.1});
  // d = 1: m = 0.1, s = 0.01, x = 0 + 0.5 x 0.1 / (0.1 + 0.1).
  EXPECT_FLOAT_EQ(adam.Step({0.0f}, {1.0})[0], 0.25f);
  // d = 1: m = 0.09 + 0.1 = 0.19, s = 0.0099 + 0.01 = 0.0199, x = 0.25 + 0.5 x 0.19 / (sqrt(0.0199) + 0.1).
  EXPECT_FLOAT_EQ(adam.Step({0.25f}, {1.25})[0], 0.64408072f);
  // A coordinate that does not move stays put.
  EXPECT_FLOAT_EQ(ServerOptimizer(ServerOptimizerOptions{"adam", 0.5, 0.0, 0.1}).Step({7.0f}, {7.0})[0], 7.0f);
}

TEST(ServerOptimizerTest, RestoredStateContinuesTheRunExactly) {
  for (const char* kind : {"sgd", "adam"}) {
    const ServerOptimizerOptions options{kind, 0.5, 0.5, 0.1};
    ServerOptimizer before(options);
    before.Step({0.0f, 1.0f}, {2.0, -1.0});
    ServerOptimizer after(options);
    ASSERT_TRUE(after.Restore(before.State(), 2).ok()) << kind;
    EXPECT_EQ(after.State().first, before.State().first) << kind;
    EXPECT_EQ(after.State().second, before.State().second) << kind;
    EXPECT_EQ(after.Step({1.0f, 0.5f}, {3.0, 0.0}), before.Step({1.0f, 0.5f}, {3.0, 0.0})) << kind;
  }
}

TEST(ServerOptimizerTest, RestoreRefusesAnotherKindOrModelSize) {
  ServerOptimizer sgd(ServerOptimizerOptions{"sgd", 0.5, 0.5, 1e-3});
  sgd.Step({0.0f, 0.0f}, {1.0, 1.0});
  ServerOptimizer adam(ServerOptimizerOptions{"adam", 0.5, 0.0, 0.1});
  const Status other_kind = adam.Restore(sgd.State(), 2);
  EXPECT_EQ(other_kind.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(other_kind.message().find("sgd"), std::string::npos) << other_kind.message();
  EXPECT_TRUE(adam.State().first.empty());

  ServerOptimizer resized(ServerOptimizerOptions{"sgd", 0.5, 0.5, 1e-3});
  const Status other_size = resized.Restore(sgd.State(), 3);
  EXPECT_EQ(other_size.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(other_size.message().find("3 parameters"), std::string::npos) << other_size.message();
  EXPECT_TRUE(resized.State().first.empty());
  // An adam state needs both moments.
  ServerOptimizerState half{"adam", {0.1, 0.2}, {}};
  EXPECT_FALSE(adam.Restore(half, 2).ok());
}

TEST(ServerOptimizerTest, OptionsValidated) {
  EXPECT_TRUE(ServerOptimizerOptions{}.Validate().ok());
  EXPECT_TRUE((ServerOptimizerOptions{"adam", 0.01, 0.0, 1e-3}.Validate().ok()));
  EXPECT_FALSE((ServerOptimizerOptions{"yogi", 1.0, 0.0, 1e-3}.Validate().ok()));
  EXPECT_FALSE((ServerOptimizerOptions{"sgd", 0.0, 0.0, 1e-3}.Validate().ok()));
  EXPECT_FALSE((ServerOptimizerOptions{"sgd", 1.0, 1.0, 1e-3}.Validate().ok()));
  EXPECT_FALSE((ServerOptimizerOptions{"adam", 1.0, 0.0, 0.0}.Validate().ok()));
}

}  // namespace
}  // namespace gl::gossip

// ServerOptimizer: plain FedAvg, FedAvgM and FedAdam steps against values computed by hand.
#include <gtest/gtest.h>

#include "gossip/server_optimizer.h"

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

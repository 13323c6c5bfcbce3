// ParameterEma: the window sets the decay, the first vector is taken as is, a vector of
// another size restarts the average, and window 0 keeps nothing.
#include "node/parameter_ema.h"

#include <gtest/gtest.h>

#include <cmath>

namespace gl::node {
namespace {

TEST(ParameterEmaTest, TheFirstVectorIsTakenAsIsAndLaterOnesMoveItByOneOverTheWindow) {
  ParameterEma ema(8);
  EXPECT_TRUE(ema.empty());
  ema.Add({1.0f, -2.0f});
  EXPECT_EQ(ema.value(), (std::vector<float>{1.0f, -2.0f}));
  ema.Add({9.0f, 6.0f});
  EXPECT_FLOAT_EQ(ema.value()[0], 2.0f);  // 1 + (9 - 1) / 8
  EXPECT_FLOAT_EQ(ema.value()[1], -1.0f);
}

TEST(ParameterEmaTest, AfterAboutAWindowOfAConstantVectorTheOldValueHasFadedToOneOverE) {
  const std::size_t window = 8;
  ParameterEma ema(window);
  ema.Add({1.0f});
  for (std::size_t i = 0; i < window; ++i) ema.Add({0.0f});
  // (1 - 1/8)^8 = 0.344, near e^-1 = 0.368: the window is the average's memory.
  EXPECT_NEAR(ema.value()[0], std::pow(1.0 - 1.0 / window, window), 1e-6);
  EXPECT_GT(ema.value()[0], 0.3f);
  EXPECT_LT(ema.value()[0], 0.37f);
}

TEST(ParameterEmaTest, AVectorOfAnotherSizeRestartsTheAverage) {
  ParameterEma ema(4);
  ema.Add({1.0f, 1.0f});
  ema.Add({5.0f, 5.0f, 5.0f});
  EXPECT_EQ(ema.value(), (std::vector<float>{5.0f, 5.0f, 5.0f}));
}

TEST(ParameterEmaTest, WindowZeroKeepsNothing) {
  ParameterEma ema(0);
  ema.Add({1.0f});
  EXPECT_TRUE(ema.empty());
}

}  // namespace
}  // namespace gl::node

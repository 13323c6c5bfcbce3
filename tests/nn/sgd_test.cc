// SgdStep: exactly w -= lr x clip(g); a non-finite gradient changes nothing.
#include "nn/sgd.h"

#include <gtest/gtest.h>

#include <limits>
#include <span>
#include <vector>

namespace gl::nn {
namespace {

TEST(SgdTest, StepIsTheLearningRateTimesTheGradient) {
  std::vector<float> a = {1.0f, -1.0f}, b = {0.5f};
  const std::vector<float> g = {0.5f, -0.25f, 2.0f};
  ASSERT_TRUE(SgdStep({std::span<float>(a), std::span<float>(b)}, g, 0.1f, 0.0f));
  EXPECT_FLOAT_EQ(a[0], 0.95f);
  EXPECT_FLOAT_EQ(a[1], -0.975f);
  EXPECT_FLOAT_EQ(b[0], 0.3f);
}

TEST(SgdTest, GradientAboveTheClipNormIsScaledDownToIt) {
  std::vector<float> w = {0.0f, 0.0f};
  const std::vector<float> g = {3.0f, 4.0f};  // norm 5
  ASSERT_TRUE(SgdStep({std::span<float>(w)}, g, 1.0f, 1.0f));
  EXPECT_NEAR(w[0], -0.6f, 1e-5f);
  EXPECT_NEAR(w[1], -0.8f, 1e-5f);
}

TEST(SgdTest, NonFiniteGradientChangesNothing) {
  std::vector<float> w = {1.0f, -1.0f};
  const std::vector<float> before = w;
  EXPECT_FALSE(SgdStep({std::span<float>(w)}, std::vector<float>{std::numeric_limits<float>::quiet_NaN(), 0.5f}, 0.1f, 5.0f));
  EXPECT_FALSE(SgdStep({std::span<float>(w)}, std::vector<float>{std::numeric_limits<float>::infinity(), 0.5f}, 0.1f, 0.0f));
  EXPECT_EQ(w, before);
}

}  // namespace
}  // namespace gl::nn

// Adam: a non-finite gradient is skipped whole, so it cannot poison later steps.
#include "nn/adam.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <span>
#include <vector>

namespace gl::nn {
namespace {

TEST(AdamTest, StepMovesAgainstTheGradient) {
  std::vector<float> w = {1.0f, -1.0f};
  const std::vector<float> g = {0.5f, -0.5f};
  Adam adam;
  ASSERT_TRUE(adam.Step({std::span<float>(w)}, g, 0.1f, 0.0f));
  EXPECT_LT(w[0], 1.0f);
  EXPECT_GT(w[1], -1.0f);
}

TEST(AdamTest, NonFiniteGradientChangesNothingAndLaterStepsStayFinite) {
  std::vector<float> w = {1.0f, -1.0f};
  std::vector<float> reference = w;
  const std::vector<float> good = {0.5f, -0.5f};
  const std::vector<float> nan = {std::numeric_limits<float>::quiet_NaN(), 0.5f};
  const std::vector<float> inf = {std::numeric_limits<float>::infinity(), 0.5f};
  Adam adam, clean;
  ASSERT_TRUE(adam.Step({std::span<float>(w)}, good, 0.1f, 5.0f));
  ASSERT_TRUE(clean.Step({std::span<float>(reference)}, good, 0.1f, 5.0f));
  const std::vector<float> before = w;
  EXPECT_FALSE(adam.Step({std::span<float>(w)}, nan, 0.1f, 5.0f));
  EXPECT_FALSE(adam.Step({std::span<float>(w)}, inf, 0.1f, 5.0f));
  EXPECT_EQ(w, before);
  // The skipped steps left no trace: the next step is the one a clean optimizer takes.
  ASSERT_TRUE(adam.Step({std::span<float>(w)}, good, 0.1f, 5.0f));
  ASSERT_TRUE(clean.Step({std::span<float>(reference)}, good, 0.1f, 5.0f));
  EXPECT_EQ(w, reference);
  for (float x : w) EXPECT_TRUE(std::isfinite(x));
}

}  // namespace
}  // namespace gl::nn

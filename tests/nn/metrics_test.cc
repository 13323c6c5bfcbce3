#include "nn/metrics.h"

#include <gtest/gtest.h>

namespace gl::nn {
namespace {

TEST(Metrics, ComputedFromConfusionByHand) {
  // truth 0: 8 right, 2 as label 1; truth 1: 1 right, 1 as label 0; label 2 never occurs.
  const Metrics m = MetricsFromConfusion({{8, 2, 0}, {1, 1, 0}, {0, 0, 0}});
  EXPECT_EQ(m.samples, 12u);
  EXPECT_DOUBLE_EQ(m.accuracy, 9.0 / 12);
  EXPECT_DOUBLE_EQ(m.recall[0], 0.8);
  EXPECT_DOUBLE_EQ(m.recall[1], 0.5);
  EXPECT_DOUBLE_EQ(m.recall[2], 0.0);
  EXPECT_DOUBLE_EQ(m.balanced_accuracy, 0.65);
  // F1_0 = 2*8/(10+9), F1_1 = 2*1/(2+3); label 2 is left out of the mean.
  EXPECT_DOUBLE_EQ(m.macro_f1, (16.0 / 19 + 2.0 / 5) / 2);
  EXPECT_EQ(m.confusion[0][1], 2u);
}

TEST(Metrics, EmptyConfusionGivesZeros) {
  const Metrics m = MetricsFromConfusion({{0, 0}, {0, 0}});
  EXPECT_EQ(m.samples, 0u);
  EXPECT_EQ(m.accuracy, 0.0);
  EXPECT_EQ(m.macro_f1, 0.0);
}

}  // namespace
}  // namespace gl::nn

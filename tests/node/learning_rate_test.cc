// LearningRateSchedule: halving per half-life, the floor, and the constant case.
#include "node/learning_rate.h"

#include <gtest/gtest.h>

#include <cmath>

namespace gl::node {
namespace {

TEST(LearningRateScheduleTest, ZeroHalfLifeIsConstant) {
  const LearningRateSchedule schedule{0.02f, 0, 1e-4f};
  EXPECT_FLOAT_EQ(schedule.At(0), 0.02f);
  EXPECT_FLOAT_EQ(schedule.At(1000), 0.02f);
}

TEST(LearningRateScheduleTest, HalvesEveryHalfLife) {
  const LearningRateSchedule schedule{0.02f, 10, 0};
  EXPECT_FLOAT_EQ(schedule.At(0), 0.02f);
  EXPECT_FLOAT_EQ(schedule.At(10), 0.01f);
  EXPECT_FLOAT_EQ(schedule.At(20), 0.005f);
  EXPECT_NEAR(schedule.At(5), 0.02 / std::sqrt(2.0), 1e-7);
}

TEST(LearningRateScheduleTest, NeverBelowTheFloor) {
  const LearningRateSchedule schedule{0.02f, 10, 1e-4f};
  EXPECT_FLOAT_EQ(schedule.At(70), 0.02f / 128);  // 1.56e-4, still above the floor
  EXPECT_FLOAT_EQ(schedule.At(80), 1e-4f);  // 0.02 / 256 < floor
  EXPECT_FLOAT_EQ(schedule.At(1000000), 1e-4f);
}

}  // namespace
}  // namespace gl::node

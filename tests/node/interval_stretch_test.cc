// IntervalStretch: no stretch before `start_halvings` halvings of the learning rate, doubling
// with each one after, capped by `max` and by the rate's floor; when a quiet spell means the
// node has lost its peers.
#include "node/interval_stretch.h"

#include <gtest/gtest.h>

#include <cmath>

namespace gl::node {
namespace {

TEST(IntervalStretchTest, DoublesWithEachHalvingAfterTheStartUpToTheMax) {
  const LearningRateSchedule schedule{0.02f, 10, 0};
  const IntervalStretch stretch{/*start_halvings=*/3, /*max=*/8};
  EXPECT_DOUBLE_EQ(stretch.At(schedule, 0), 1);
  EXPECT_DOUBLE_EQ(stretch.At(schedule, 30), 1);
  EXPECT_NEAR(stretch.At(schedule, 35), std::sqrt(2.0), 1e-6);
  EXPECT_DOUBLE_EQ(stretch.At(schedule, 40), 2);
  EXPECT_DOUBLE_EQ(stretch.At(schedule, 50), 4);
  EXPECT_DOUBLE_EQ(stretch.At(schedule, 60), 8);
  EXPECT_DOUBLE_EQ(stretch.At(schedule, 1000), 8);
}

TEST(IntervalStretchTest, StopsWhereTheLearningRateStops) {
  const IntervalStretch stretch{/*start_halvings=*/0, /*max=*/64};
  EXPECT_DOUBLE_EQ(stretch.At(LearningRateSchedule{0.02f, 10, 0.005f}, 1000), 4);  // floor: 2 halvings
  EXPECT_DOUBLE_EQ(stretch.At(LearningRateSchedule{0.02f, 0, 0}, 1000), 1);       // constant rate
}

TEST(IntervalStretchTest, MaxOneIsAFixedInterval) {
  const IntervalStretch fixed{/*start_halvings=*/0, /*max=*/1};
  EXPECT_DOUBLE_EQ(fixed.At(LearningRateSchedule{0.02f, 1, 0}, 50), 1);
}

TEST(IntervalStretchTest, TheConsensusEstimateIsStaleAfterAsManyQuietEpochsAsTheStretch) {
  EXPECT_FALSE(ConsensusEstimateStale(0, 1));
  EXPECT_TRUE(ConsensusEstimateStale(1, 1));  // unstretched: one whole epoch without a merge
  EXPECT_FALSE(ConsensusEstimateStale(1, 1.5));
  EXPECT_TRUE(ConsensusEstimateStale(2, 1.5));
  EXPECT_FALSE(ConsensusEstimateStale(7, 8));
  EXPECT_TRUE(ConsensusEstimateStale(8, 8));
}

}  // namespace
}  // namespace gl::node

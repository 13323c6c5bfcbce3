// The pieces of MergePolicy's bounds: the adaptive radius (median of distinct senders'
// latest distances), the drop of models too far to merge even clipped, the pull onto the
// sphere around the local model and the cap on the pull along the local model. Their order
// and counts: merge_policy_test.cc.
#include "gossip/merge/update_clip.h"

#include <gtest/gtest.h>

#include <cmath>

#include "gossip/merge/merge.h"

namespace gl::gossip {
namespace {

TEST(ClipRadiusTest, ThreeQuartersOfTheLocalNormStandInForAnHonestDistanceWhileFewSendersAreKnown) {
  ClipRadius radius(8, 1.0, 0.0);
  EXPECT_DOUBLE_EQ(radius.Observe("liar@h", 160.0, 14.0), 10.5);  // the first sender: {160, 10.5}
  EXPECT_DOUBLE_EQ(radius.Observe("a@h", 20.0, 14.0), 20.0);      // {160, 20, 10.5}
  EXPECT_DOUBLE_EQ(radius.Observe("a@h", 10.0, 14.0), 10.5);      // the same sender again: {160, 10, 10.5}
  EXPECT_DOUBLE_EQ(radius.Observe("c@h", 30.0, 14.0), 30.0);      // three senders, no prior: {160, 10, 30}
}

TEST(ClipRadiusTest, ASignFlippedFirstPeerIsDropped) {
  ClipRadius radius(8, 1.0, 2.0);
  const double norm = 20.0;  // the flipped model lies 2 norms away; the prior is 0.75 norms
  EXPECT_TRUE(radius.TooFar(2 * norm, radius.Observe("flip@h", 2 * norm, norm)));
}

TEST(ClipRadiusTest, TheFactorScalesTheMedian) {
  ClipRadius radius(8, 2.0, 0.0);
  radius.Observe("a@h", 1.0, 0.0);
  radius.Observe("b@h", 2.0, 0.0);
  EXPECT_DOUBLE_EQ(radius.Observe("c@h", 3.0, 0.0), 2.0 * 2.0);
}

TEST(ClipRadiusTest, OneLiarCannotMoveTheMedianPastHonestValues) {
  ClipRadius radius(8, 1.0, 0.0);
  for (const char* honest : {"a@h", "b@h", "c@h", "d@h"}) radius.Observe(honest, 5.0, 0.0);
  // However far the liar claims to be, the median stays an honest distance.
  EXPECT_DOUBLE_EQ(radius.Observe("liar@h", 1e6, 0.0), 5.0);
  EXPECT_DOUBLE_EQ(radius.Observe("liar@h", 1e9, 0.0), 5.0);
}

TEST(ClipRadiusTest, KeepsOnlyEachSendersLatestAndForgetsTheLeastRecent) {
  ClipRadius radius(3, 1.0, 0.0);
  radius.Observe("a@h", 100.0, 0.0);
  radius.Observe("b@h", 1.0, 0.0);
  radius.Observe("c@h", 2.0, 0.0);
  EXPECT_DOUBLE_EQ(radius.Observe("a@h", 3.0, 0.0), 2.0);  // a's 100 was replaced: {1, 2, 3}
  EXPECT_DOUBLE_EQ(radius.Observe("d@h", 9.0, 0.0), 3.0);  // b (least recent) forgotten: {2, 3, 9}
}

TEST(ClipRadiusTest, DropsOnlyModelsBeyondTheDropFactorTimesTheRadius) {
  ClipRadius radius(8, 1.0, 3.0);
  for (const char* honest : {"a@h", "b@h", "c@h", "d@h"}) radius.Observe(honest, 5.0, 20.0);
  // A sign-flipped model lies two model norms away: far beyond 3 honest distances.
  const double r = radius.Observe("flip@h", 40.0, 20.0);
  EXPECT_DOUBLE_EQ(r, 5.0);
  EXPECT_TRUE(radius.TooFar(40.0, r));
  EXPECT_FALSE(radius.TooFar(15.0, r));  // clipped, but merged
  EXPECT_FALSE(radius.TooFar(5.0, r));
}

TEST(ClipRadiusTest, NothingIsDroppedWhenAllPeersAreFar) {
  // A node whose peers all trained apart from it (it joined late, or a partition healed):
  // the median is far too, so their models are merged, clipped at most.
  ClipRadius radius(8, 1.0, 3.0);
  for (const char* far : {"a@h", "b@h", "c@h", "d@h"}) {
    const double r = radius.Observe(far, 30.0, 20.0);
    EXPECT_FALSE(radius.TooFar(30.0, r)) << far;
  }
}

TEST(ClipRadiusTest, ADropFactorOfZeroNeverDrops) {
  ClipRadius radius(8, 1.0, 0.0);
  for (const char* honest : {"a@h", "b@h", "c@h"}) radius.Observe(honest, 1.0, 1.0);
  EXPECT_FALSE(radius.TooFar(1e9, radius.Observe("liar@h", 1e9, 1.0)));
}

TEST(CapRadialPullTest, ZerosShrinkTheLocalModelByAtMostTheShare) {
  const std::vector<float> local{3.0f, 4.0f};  // norm 5
  std::vector<float> remote{0.0f, 0.0f};
  EXPECT_TRUE(CapRadialPull(remote, local, ParameterNorm(local), 0.1));
  EXPECT_FLOAT_EQ(remote[0], 2.7f);  // 0.9 x local: 0.5 (= 0.1 x 5) shorter
  EXPECT_FLOAT_EQ(remote[1], 3.6f);
}

TEST(CapRadialPullTest, AScaledUpModelGrowsItByAtMostTheShareAndTheSidewaysPartStays) {
  const std::vector<float> local{1.0f, 0.0f};
  std::vector<float> remote{3.0f, 2.0f};
  EXPECT_TRUE(CapRadialPull(remote, local, ParameterNorm(local), 0.1));
  EXPECT_FLOAT_EQ(remote[0], 1.1f);
  EXPECT_FLOAT_EQ(remote[1], 2.0f);
}

TEST(CapRadialPullTest, LeavesAModelThatDiffersOnlySidewaysOrLittleAlone) {
  const std::vector<float> local{1.0f, 0.0f};
  std::vector<float> sideways{1.0f, 5.0f};
  EXPECT_FALSE(CapRadialPull(sideways, local, ParameterNorm(local), 0.1));
  EXPECT_EQ(sideways, (std::vector<float>{1.0f, 5.0f}));
  std::vector<float> near{1.05f, 0.3f};
  EXPECT_FALSE(CapRadialPull(near, local, ParameterNorm(local), 0.1));
  EXPECT_EQ(near, (std::vector<float>{1.05f, 0.3f}));
  std::vector<float> zero_local_remote{2.0f, 2.0f};
  EXPECT_FALSE(CapRadialPull(zero_local_remote, std::vector<float>{0.0f, 0.0f}, 0.0, 0.1));
}

TEST(ClipToRadiusTest, PullsAFarModelOntoTheSphereAroundTheLocalOne) {
  const std::vector<float> local{1.0f, 1.0f};
  std::vector<float> remote{4.0f, 5.0f};  // 5 away
  EXPECT_TRUE(ClipToRadius(remote, local, UpdateNorm(remote, local), 2.5));
  EXPECT_FLOAT_EQ(remote[0], 2.5f);
  EXPECT_FLOAT_EQ(remote[1], 3.0f);
  EXPECT_NEAR(UpdateNorm(remote, local), 2.5, 1e-6);
}

TEST(ClipToRadiusTest, LeavesANearModelAlone) {
  const std::vector<float> local{0.0f, 0.0f};
  std::vector<float> remote{3.0f, 4.0f};
  EXPECT_FALSE(ClipToRadius(remote, local, 5.0, 5.0));
  EXPECT_FALSE(ClipToRadius(remote, local, 5.0, INFINITY));
  EXPECT_EQ(remote, (std::vector<float>{3.0f, 4.0f}));
}

}  // namespace
}  // namespace gl::gossip

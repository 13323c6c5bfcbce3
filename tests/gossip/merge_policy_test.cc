// MergePolicy: the screen, the bounds and the rule in order, against hand-made models, and
// the counters each decision leaves in MergeStats.
#include "gossip/merge/merge_policy.h"

#include <gtest/gtest.h>

#include <cmath>

#include "gossip/merge/merge.h"

namespace gl::gossip {
namespace {

ModelSnapshot Remote(std::vector<float> params, std::uint64_t age = 10) {
  return ModelSnapshot{"sig", std::move(params), age, 10};
}
ModelSnapshot Local(std::vector<float> params, std::uint64_t age = 10) { return Remote(std::move(params), age); }

std::vector<ReceivedModel> One(const std::string& sender, ModelSnapshot model) {
  std::vector<ReceivedModel> offers;
  offers.push_back({sender, std::move(model)});
  return offers;
}

// Only the rule: no screen bound, no clipping.
MergePolicyOptions RuleOnly(MergeRule rule) {
  MergePolicyOptions o = MergePolicyOptions::ScreenOnly(0, 0);
  o.rule = rule;
  return o;
}

// ---- Screen ----

TEST(MergePolicyScreenTest, RefusesNonFiniteWrongSignatureAndWrongLengthAndCountsEachReason) {
  MergePolicy policy(MergePolicyOptions::ScreenOnly(200, 4));
  const std::vector<float> local{1.0f, 1.0f};
  EXPECT_FALSE(policy.Screen("nan@h", Remote({NAN, 1.0f}), "sig", local).ok());
  EXPECT_FALSE(policy.Screen("other@h", Remote({1.0f, 1.0f}), "other", local).ok());
  EXPECT_FALSE(policy.Screen("short@h", Remote({1.0f}), "sig", local).ok());
  const MergeStats& stats = policy.stats();
  EXPECT_EQ(stats.refused_not_finite, 1u);
  EXPECT_EQ(stats.refused_incompatible, 2u);
  EXPECT_EQ(stats.refused_too_far, 0u);
  const std::map<std::string, std::uint64_t> by_peer{{"nan@h", 1}, {"other@h", 1}, {"short@h", 1}};
  EXPECT_EQ(stats.refused_by_peer, by_peer);
}

TEST(MergePolicyScreenTest, ReportsTheDistanceOfAnAcceptedModel) {
  MergePolicy policy(MergePolicyOptions::ScreenOnly(200, 4));
  double norm = 0;
  EXPECT_TRUE(policy.Screen("a@h", Remote({4.0f, 5.0f}), "sig", {1.0f, 1.0f}, &norm).ok());
  EXPECT_DOUBLE_EQ(norm, 5.0);
  EXPECT_DOUBLE_EQ(policy.stats().update_norm_max, 5.0);
}

TEST(MergePolicyScreenTest, BeyondTheAbsoluteBoundOnlyWithinFourTimesTheLocalNorm) {
  MergePolicy policy(MergePolicyOptions::ScreenOnly(10, 4));
  const std::vector<float> small{0.0f, 1.0f}, large{30.0f, 40.0f};  // norms 1 and 50
  EXPECT_TRUE(policy.Screen("a@h", Remote({0.0f, 10.0f}), "sig", small).ok());           // 9 away
  EXPECT_FALSE(policy.Screen("a@h", Remote({0.0f, 12.0f}), "sig", small).ok());          // 11 away
  EXPECT_TRUE(policy.Screen("a@h", Remote({-60.0f, -80.0f}), "sig", large).ok());        // x-2: 150 away
  EXPECT_FALSE(policy.Screen("a@h", Remote({180.0f, 240.0f}), "sig", large).ok());       // x6: 250 away
  const Status x1000 = policy.Screen("a@h", Remote({30000.0f, 40000.0f}), "sig", large);
  EXPECT_NE(x1000.message().find("update norm"), std::string::npos);
  EXPECT_EQ(policy.stats().refused_too_far, 3u);
  EXPECT_EQ(policy.stats().refused_by_peer.at("a@h"), 3u);
}

TEST(MergePolicyScreenTest, RatioZeroKeepsTheAbsoluteBoundAlone) {
  MergePolicy policy(MergePolicyOptions::ScreenOnly(10, 0));
  EXPECT_FALSE(policy.Screen("a@h", Remote({-60.0f, -80.0f}), "sig", {30.0f, 40.0f}).ok());  // 150 away
}

TEST(MergePolicyScreenTest, ZeroMeansNoBound) {
  MergePolicy policy(MergePolicyOptions::ScreenOnly(0, 4));
  EXPECT_TRUE(policy.Screen("a@h", Remote({1e30f, 1e30f}), "sig", {1.0f, 1.0f}).ok());
}

// ---- Merge: screen, bounds, rule ----

TEST(MergePolicyTest, AFarModelIsRefusedCountedAndLeavesTheLocalModel) {
  MergePolicy policy(MergePolicyOptions{});  // the node's defaults: bound 200 or 4 x the local norm
  ModelSnapshot local = Local({3.0f, 4.0f});
  EXPECT_EQ(policy.Merge(One("scaled@h", Remote({3000.0f, 4000.0f})), local), 0u);
  EXPECT_EQ(local.params, (std::vector<float>{3.0f, 4.0f}));
  EXPECT_EQ(policy.stats().refused_too_far, 1u);
  EXPECT_EQ(policy.stats().refused_by_peer.at("scaled@h"), 1u);
  EXPECT_EQ(policy.stats().merged, 0u);
}

TEST(MergePolicyTest, DropsAFlippedModelAndCapsAHalvedOnesPullTowardZero) {
  MergePolicyOptions o;
  o.clip_factor = 1, o.clip_drop_factor = 2, o.clip_radial_share = 0.05, o.rule = MergeRule::kAverage;
  MergePolicy policy(o);
  const std::vector<float> start{3.0f, 4.0f};  // norm 5
  // Early in training honest models are about a norm apart: 4 here, sideways to the local model.
  for (const char* honest : {"a@h", "b@h", "c@h"}) {
    ModelSnapshot local = Local(start);
    policy.Merge(One(honest, Remote({-0.2f, 6.4f})), local);
  }
  EXPECT_NEAR(policy.stats().clip_radius, 4.0, 1e-5);
  EXPECT_EQ(policy.stats().capped, 0u);  // no part toward or away from zero

  ModelSnapshot local = Local(start);
  EXPECT_EQ(policy.Merge(One("flip@h", Remote({-3.0f, -4.0f})), local), 0u);  // 10 away: > 2 x 4
  EXPECT_EQ(local.params, start);
  EXPECT_EQ(policy.stats().dropped, 1u);

  // 2.5 away: inside the radius, yet all of it toward zero; capped to 0.95 x local, then averaged.
  EXPECT_EQ(policy.Merge(One("half@h", Remote({1.5f, 2.0f})), local), 1u);
  EXPECT_NEAR(ParameterNorm(local.params), 0.975 * 5.0, 1e-5);
  EXPECT_EQ(policy.stats().capped, 1u);
}

TEST(MergePolicyTest, AClippedModelMovesTheLocalOneAtMostTheRadius) {
  MergePolicyOptions o = RuleOnly(MergeRule::kAverage);
  o.clip_factor = 1, o.clip_drop_factor = 0, o.clip_radial_share = 0;
  MergePolicy policy(o);
  const std::vector<float> start{0.0f, 10.0f};
  for (const char* honest : {"a@h", "b@h", "c@h"}) {  // each 1 away: the radius becomes 1
    ModelSnapshot local = Local(start);
    policy.Merge(One(honest, Remote({1.0f, 10.0f})), local);
  }
  const std::uint64_t clipped_before = policy.stats().clipped;
  ModelSnapshot local = Local(start);
  EXPECT_EQ(policy.Merge(One("far@h", Remote({100.0f, 10.0f})), local), 1u);  // 100 away
  EXPECT_DOUBLE_EQ(policy.stats().clip_radius, 1.0);
  EXPECT_EQ(policy.stats().clipped, clipped_before + 1);
  // Pulled in to 1 away, then averaged (weight 1/2): the node moves by 0.5 toward it.
  EXPECT_NEAR(UpdateNorm(local.params, start), 0.5, 1e-6);
  EXPECT_FLOAT_EQ(local.params[0], 0.5f);
}

// What the node scores (training_loop.h smoothing_merges): the peers' models it let in, as
// the bounds left them; never one it refused or dropped.
TEST(MergePolicyTest, HandsBackEachMergedModelAsBoundedAndNoneItRefused) {
  MergePolicyOptions o = MergePolicyOptions::ScreenOnly(50, 0);
  o.clip_factor = 1, o.clip_drop_factor = 0, o.clip_radial_share = 0, o.rule = MergeRule::kAverage;
  MergePolicy policy(o);
  const std::vector<float> start{0.0f, 10.0f};
  for (const char* honest : {"a@h", "b@h", "c@h"}) {  // each 1 away: the radius becomes 1
    ModelSnapshot local = Local(start);
    policy.Merge(One(honest, Remote({1.0f, 10.0f})), local);
  }
  std::vector<ReceivedModel> offers;
  offers.push_back({"near@h", Remote({0.0f, 9.5f})});
  offers.push_back({"nan@h", Remote({NAN, 10.0f})});
  offers.push_back({"beyond-the-screen@h", Remote({0.0f, 100.0f})});  // 90 away: over 50
  offers.push_back({"far@h", Remote({0.0f, 40.0f})});                 // 30 away: clipped to 1
  ModelSnapshot local = Local(start);
  std::vector<std::vector<float>> merged_models;
  EXPECT_EQ(policy.Merge(std::move(offers), local, &merged_models), 2u);
  ASSERT_EQ(merged_models.size(), 2u);
  EXPECT_EQ(merged_models[0], (std::vector<float>{0.0f, 9.5f}));
  // Pulled in to the radius around the local model as the first merge left it (0, 9.75).
  EXPECT_NEAR(merged_models[1][1], 10.75f, 1e-5);
}

TEST(MergePolicyTest, TrimmedMeanWindowIgnoresOneAbsurdPeer) {
  MergePolicyOptions o = RuleOnly(MergeRule::kTrimmedMean);
  o.trimmed_mean_window = 4;
  MergePolicy policy(o);
  ModelSnapshot local = Local({1.0f, 1.0f});
  std::vector<ReceivedModel> offers;
  offers.push_back({"a@h", Remote({2.0f, 2.0f})});
  offers.push_back({"b@h", Remote({3.0f, 3.0f})});
  offers.push_back({"liar@h", Remote({1000.0f, -1000.0f})});
  EXPECT_EQ(policy.Merge(std::move(offers), local), 3u);
  // {1, 2, 3, +-1000}: one value trimmed at each end, the mean of the middle two.
  EXPECT_FLOAT_EQ(local.params[0], 2.5f);
  EXPECT_FLOAT_EQ(local.params[1], 1.5f);
  // Forgotten after a round: the next merge sees only the new model.
  policy.ForgetWindow();
  ModelSnapshot again = Local({0.0f, 0.0f});
  policy.Merge(One("c@h", Remote({4.0f, 4.0f})), again);
  EXPECT_FLOAT_EQ(again.params[0], 2.0f);
}

TEST(MergePolicyTest, AverageAndAgeWeightedArithmeticIsExact) {
  MergePolicy average(RuleOnly(MergeRule::kAverage));
  ModelSnapshot local = Local({1.0f, 2.0f}, 10);
  average.Merge(One("a@h", Remote({3.0f, 6.0f}, 1000)), local);
  EXPECT_EQ(local.params, (std::vector<float>{2.0f, 4.0f}));
  EXPECT_EQ(local.age, 20u);  // the remote's age, credited at most 2 x the local one

  MergePolicy age_weighted(RuleOnly(MergeRule::kAgeWeighted));
  ModelSnapshot young = Local({0.0f}, 30);
  age_weighted.Merge(One("a@h", Remote({9.0f}, 60)), young);
  EXPECT_FLOAT_EQ(young.params[0], 6.0f);  // weights 30/90 and 60/90
  EXPECT_EQ(young.age, 60u);
  // Pairwise and in order: the second offer merges into what the first left.
  std::vector<ReceivedModel> two;
  two.push_back({"a@h", Remote({0.0f}, 60)});
  two.push_back({"b@h", Remote({12.0f}, 60)});
  age_weighted.Merge(std::move(two), young);
  EXPECT_FLOAT_EQ(young.params[0], 7.5f);  // (6 + 0) / 2 = 3, then (3 + 12) / 2
}

TEST(MergePolicyTest, StatsAddUp) {
  MergePolicyOptions o;  // the node's defaults
  o.rule = MergeRule::kAverage;
  MergePolicy policy(o);
  std::vector<ReceivedModel> offers;
  offers.push_back({"a@h", Remote({3.0f, 4.5f})});
  offers.push_back({"nan@h", Remote({NAN, 4.0f})});
  offers.push_back({"other@h", ModelSnapshot{"other", {3.0f, 4.0f}, 1, 1}});
  offers.push_back({"scaled@h", Remote({3000.0f, 4000.0f})});
  offers.push_back({"flip@h", Remote({-3.0f, -4.0f})});  // 10 away, the radius is ~3.75
  offers.push_back({"b@h", Remote({3.5f, 4.0f})});
  ModelSnapshot local = Local({3.0f, 4.0f});
  EXPECT_EQ(policy.Merge(std::move(offers), local), 2u);
  const MergeStats& s = policy.stats();
  EXPECT_EQ(s.received, 6u);
  EXPECT_EQ(s.refused_not_finite, 1u);
  EXPECT_EQ(s.refused_incompatible, 1u);
  EXPECT_EQ(s.refused_too_far, 1u);
  EXPECT_EQ(s.dropped, 1u);
  EXPECT_EQ(s.merged, 2u);
  EXPECT_EQ(s.received, s.refused() + s.dropped + s.merged);
  EXPECT_EQ(s.refused_by_peer.size(), 3u);
}

TEST(MergePolicyOptionsTest, ValidateNamesTheFieldOutOfRange) {
  EXPECT_TRUE(MergePolicyOptions{}.Validate().ok());
  MergePolicyOptions o;
  o.clip_drop_factor = 0.5;
  EXPECT_NE(o.Validate().message().find("clip_drop_factor"), std::string::npos);
  o = MergePolicyOptions{};
  o.max_update_norm = -1;
  EXPECT_NE(o.Validate().message().find("max_update_norm"), std::string::npos);
  o = MergePolicyOptions{};
  o.trimmed_mean_window = 0;
  EXPECT_NE(o.Validate().message().find("trimmed_mean_window"), std::string::npos);
}

}  // namespace
}  // namespace gl::gossip

// FedAvg and TrimmedMean against weights computed by hand; participant sampling.
#include <gtest/gtest.h>

#include <set>

#include "gossip/rounds/fedavg.h"
#include "gossip/rounds/fednova.h"
#include "gossip/rounds/trimmed_mean.h"

namespace gl::gossip {
namespace {

// Appends to a std::string built first (a literal + std::to_string trips a GCC 12 -Wrestrict false positive).
std::string Text(const char* prefix, int i, const char* suffix = "") {
  std::string text(prefix);
  text += std::to_string(i);
  text += suffix;
  return text;
}

std::vector<RoundCandidate> Candidates(int n) {
  std::vector<RoundCandidate> live;
  for (int i = 0; i < n; ++i) live.push_back({Text("10.0.0.", i, ":7070"), Text("n", i)});
  return live;
}

FedAvgOptions Options(double fraction, std::uint32_t min_nodes) {
  FedAvgOptions options;
  options.fraction = fraction;
  options.min_nodes = min_nodes;
  options.config = RoundConfig{3, 16, 0.01f};
  return options;
}

TEST(FedAvgTest, WeightsBySampleCount) {
  FedAvg fedavg(Options(1, 2));
  const std::vector<RoundResult> ok = {{"a", {1, 2, -4}, 1}, {"b", {4, 8, 0}, 3}};
  const auto global = fedavg.Aggregate(1, {0, 0, 0}, ok, {});
  ASSERT_TRUE(global.has_value());
  // (1*1 + 4*3) / 4, (2*1 + 8*3) / 4, (-4*1 + 0*3) / 4
  EXPECT_FLOAT_EQ((*global)[0], 3.25f);
  EXPECT_FLOAT_EQ((*global)[1], 6.5f);
  EXPECT_FLOAT_EQ((*global)[2], -1.0f);
}

TEST(FedAvgTest, EqualWeightsWhenNoSampleCounts) {
  FedAvg fedavg(Options(1, 2));
  const auto global = fedavg.Aggregate(1, {0, 0}, {{"a", {1, 3}, 0}, {"b", {2, 5}, 0}}, {});
  ASSERT_TRUE(global.has_value());
  EXPECT_FLOAT_EQ((*global)[0], 1.5f);
  EXPECT_FLOAT_EQ((*global)[1], 4.0f);
}

TEST(FedAvgTest, NoRepliesKeepsTheGlobalModel) {
  FedAvg fedavg(Options(1, 2));
  EXPECT_FALSE(fedavg.Aggregate(1, {0, 0}, {}, {{"a", Status::Timeout("late")}}).has_value());
}

TEST(FedAvgTest, SamplesFractionButAtLeastMinNodes) {
  FedAvg half(Options(0.5, 2));
  EXPECT_EQ(half.ConfigureRound(1, Candidates(6)).size(), 3u);
  FedAvg tenth(Options(0.1, 2));
  EXPECT_EQ(tenth.ConfigureRound(1, Candidates(6)).size(), 2u);
  FedAvg all(Options(1, 2));
  EXPECT_EQ(all.ConfigureRound(1, Candidates(6)).size(), 6u);
  EXPECT_EQ(all.ConfigureRound(1, Candidates(1)).size(), 1u);  // the driver decides it is too few
  EXPECT_TRUE(all.ConfigureRound(1, {}).empty());
}

TEST(FedAvgTest, PlansCarryTheRoundConfigAndDistinctPeers) {
  FedAvg fedavg(Options(0.5, 2));
  const auto plans = fedavg.ConfigureRound(1, Candidates(8));
  std::set<std::string> addresses;
  for (const PeerPlan& plan : plans) {
    addresses.insert(plan.address);
    EXPECT_EQ(plan.config.epochs, 3u);
    EXPECT_EQ(plan.config.batch_size, 16u);
    EXPECT_FLOAT_EQ(plan.config.learning_rate, 0.01f);
    EXPECT_EQ(plan.id, Text("n", std::stoi(plan.address.substr(7))));
  }
  EXPECT_EQ(addresses.size(), plans.size());
}

TEST(FedAvgTest, FreshRandomChoiceEachRound) {
  FedAvg fedavg(Options(0.25, 2));
  std::set<std::set<std::string>> choices;
  for (std::uint64_t round = 1; round <= 20; ++round) {
    std::set<std::string> chosen;
    for (const PeerPlan& plan : fedavg.ConfigureRound(round, Candidates(8))) chosen.insert(plan.address);
    choices.insert(chosen);
  }
  EXPECT_GT(choices.size(), 5u);  // 28 possible pairs; the same one 20 times would be a bug
}

TEST(FedAvgTest, OptionsValidated) {
  EXPECT_TRUE(Options(1, 2).Validate().ok());
  EXPECT_FALSE(Options(0, 2).Validate().ok());
  EXPECT_FALSE(Options(1.5, 2).Validate().ok());
  EXPECT_FALSE(Options(1, 0).Validate().ok());
  FedAvgOptions no_epochs = Options(1, 2);
  no_epochs.config.epochs = 0;
  EXPECT_FALSE(no_epochs.Validate().ok());
}

TEST(FedAvgTest, ServerMomentumAccumulatesSteps) {
  FedAvgOptions options = Options(1, 2);
  options.server.momentum = 0.5;
  FedAvg fedavgm(options);
  // Round 1: mean 1, velocity 1, global 0 + 1 = 1.
  const auto first = fedavgm.Aggregate(1, {0}, {{"a", {1}, 1}, {"b", {1}, 1}}, {});
  ASSERT_TRUE(first.has_value());
  EXPECT_FLOAT_EQ((*first)[0], 1.0f);
  // Round 2: mean 2 (a step of 1 from the global 1), velocity 0.5 x 1 + 1, global 1 + 1.5.
  const auto second = fedavgm.Aggregate(2, *first, {{"a", {2}, 1}, {"b", {2}, 1}}, {});
  ASSERT_TRUE(second.has_value());
  EXPECT_FLOAT_EQ((*second)[0], 2.5f);
  options.server.momentum = 1.0;
  EXPECT_FALSE(options.Validate().ok());
}

TEST(FedAvgTest, LearningRateDecaysPerRound) {
  FedAvgOptions options = Options(1, 2);
  options.lr_decay = 0.5;
  FedAvg fedavg(options);
  EXPECT_FLOAT_EQ(fedavg.ConfigFor(1).learning_rate, 0.01f);  // round 1 trains with the base rate
  EXPECT_FLOAT_EQ(fedavg.ConfigFor(3).learning_rate, 0.0025f);
  for (const PeerPlan& plan : fedavg.ConfigureRound(2, Candidates(3))) {
    EXPECT_FLOAT_EQ(plan.config.learning_rate, 0.005f);
    EXPECT_EQ(plan.config.batch_size, 16u);
  }
  EXPECT_FLOAT_EQ(FedAvg(Options(1, 2)).ConfigFor(30).learning_rate, 0.01f);  // default: constant
  options.lr_decay = 0;
  EXPECT_FALSE(options.Validate().ok());
  options.lr_decay = 1.01;
  EXPECT_FALSE(options.Validate().ok());
}

TEST(FedNovaTest, AveragesUpdatesPerLocalStep) {
  FedNova nova(Options(1, 2));  // 3 epochs of batch 16
  EXPECT_DOUBLE_EQ(FedNova::LocalSteps(16, RoundConfig{3, 16, 0.01f}), 3.0);
  EXPECT_DOUBLE_EQ(FedNova::LocalSteps(40, RoundConfig{3, 16, 0.01f}), 9.0);  // the last batch is partial
  // p = 1/4, 3/4; tau = 3, 9; tau_eff = 3/4 + 27/4 = 7.5;
  // 0 + 7.5 x (1/4 x (1 - 0) / 3 + 3/4 x (4 - 0) / 9) = 3.125 (FedAvg: 3.25).
  const auto global = nova.Aggregate(1, {0, 2}, {{"a", {1, 2}, 16}, {"b", {4, 2}, 48}}, {});
  ASSERT_TRUE(global.has_value());
  EXPECT_FLOAT_EQ((*global)[0], 3.125f);
  EXPECT_FLOAT_EQ((*global)[1], 2.0f);
  // Equal step counts: FedAvg's mean.
  EXPECT_FLOAT_EQ((*nova.Aggregate(2, {0}, {{"a", {1}, 16}, {"b", {4}, 16}}, {}))[0], 2.5f);
  // No sample counts: the equal-weight mean; a reply without samples has no weight.
  EXPECT_FLOAT_EQ((*nova.Aggregate(3, {0}, {{"a", {1}, 0}, {"b", {4}, 0}}, {}))[0], 2.5f);
  EXPECT_FLOAT_EQ((*nova.Aggregate(4, {0}, {{"a", {1}, 0}, {"b", {4}, 16}}, {}))[0], 4.0f);
}

TEST(TrimmedMeanTest, IgnoresOneAbsurdUpdate) {
  TrimmedMean robust(Options(1, 2));
  const std::vector<RoundResult> ok = {
      {"a", {1.0f, 2.0f}, 10}, {"b", {1.2f, 2.2f}, 10}, {"c", {0.8f, 1.8f}, 10}, {"evil", {1000.0f, 2000.0f}, 1000}};
  const auto global = robust.Aggregate(1, {0, 0}, ok, {});
  ASSERT_TRUE(global.has_value());
  // Sorted columns [0.8 1 1.2 1000] and [1.8 2 2.2 2000]; one trimmed at each end.
  EXPECT_FLOAT_EQ((*global)[0], 1.1f);
  EXPECT_FLOAT_EQ((*global)[1], 2.1f);
  // FedAvg, for contrast, is dragged far away by the same replies.
  EXPECT_GT((*FedAvg(Options(1, 2)).Aggregate(1, {0, 0}, ok, {}))[0], 500.0f);
}

TEST(TrimmedMeanTest, ThreeRepliesGiveTheMedian) {
  TrimmedMean robust(Options(1, 2));
  const auto global = robust.Aggregate(1, {0}, {{"a", {5}, 1}, {"b", {-1e6f}, 1}, {"c", {7}, 1}}, {});
  ASSERT_TRUE(global.has_value());
  EXPECT_FLOAT_EQ((*global)[0], 5.0f);
}

TEST(TrimmedMeanTest, TrimmedPerSide) {
  TrimmedMean robust(Options(1, 2), 0.2);
  EXPECT_EQ(robust.TrimmedPerSide(1), 0u);
  EXPECT_EQ(robust.TrimmedPerSide(2), 0u);  // two replies are averaged: neither can outvote the other
  EXPECT_EQ(robust.TrimmedPerSide(3), 1u);
  EXPECT_EQ(robust.TrimmedPerSide(8), 1u);
  EXPECT_EQ(robust.TrimmedPerSide(10), 2u);
  EXPECT_EQ(TrimmedMean(Options(1, 2), 0.45).TrimmedPerSide(4), 1u);  // always keeps at least two of four
}

TEST(TrimmedMeanTest, TwoRepliesArePlainMean) {
  TrimmedMean robust(Options(1, 2));
  const auto global = robust.Aggregate(1, {0}, {{"a", {1}, 1}, {"b", {3}, 100}}, {});
  ASSERT_TRUE(global.has_value());
  EXPECT_FLOAT_EQ((*global)[0], 2.0f);
}

}  // namespace
}  // namespace gl::gossip

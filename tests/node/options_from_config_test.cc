// The settings reach the parts' options: each choice maps to what the part does with it.
#include "node/options_from_config.h"

#include <gtest/gtest.h>

namespace gl::node {
namespace {

TEST(OptionsFromConfigTest, MergeSettingsReachTheMergePolicy) {
  Config c;
  c.merge_window = 6;
  c.max_update_norm = 50;
  c.clip_factor = 1.5;
  EXPECT_EQ(TrainingLoopOptionsFor(c).merge.rule, gossip::MergeRule::kAgeWeighted);
  c.merge = MergeChoice::kAverage;
  EXPECT_EQ(TrainingLoopOptionsFor(c).merge.rule, gossip::MergeRule::kAverage);
  c.merge = MergeChoice::kTrimmedMean;
  const gossip::MergePolicyOptions merge = TrainingLoopOptionsFor(c).merge;
  EXPECT_EQ(merge.rule, gossip::MergeRule::kTrimmedMean);
  EXPECT_EQ(merge.trimmed_mean_window, 6u);
  EXPECT_EQ(merge.max_update_norm, 50);
  EXPECT_EQ(merge.clip_factor, 1.5);
  EXPECT_TRUE(merge.Validate().ok());
}

TEST(OptionsFromConfigTest, SecondsBecomeDurationsAndRoleItsName) {
  Config c;
  c.role = Role::kCoordinator;
  c.gossip_interval_s = 0.5;
  c.intervals_per_epoch = 4;
  c.round_deadline_s = 60;
  const gossip::Options gossip = GossipOptionsFor(c, 1000);
  EXPECT_EQ(gossip.role, "coordinator");
  EXPECT_EQ(gossip.gossip_interval, std::chrono::milliseconds(500));
  EXPECT_EQ(TrainingLoopOptionsFor(c).min_epoch_duration, std::chrono::milliseconds(2000));
  EXPECT_EQ(RoundDriverOptionsFor(c).round_deadline, std::chrono::seconds(60));
}

TEST(OptionsFromConfigTest, RoundSettingsReachTheStrategy) {
  Config c;
  c.server_optimizer = ServerOptimizerChoice::kAdam;
  c.local_epochs = 3;
  c.batch_size = 16;
  c.min_nodes = 4;
  const gossip::FedAvgOptions fedavg = FedAvgOptionsFor(c);
  EXPECT_EQ(fedavg.server.kind, "adam");
  EXPECT_EQ(fedavg.config.epochs, 3u);
  EXPECT_EQ(fedavg.config.batch_size, 16u);
  EXPECT_EQ(fedavg.min_nodes, 4u);
  EXPECT_EQ(fedavg.config.optimizer, gossip::LocalOptimizer::kAdam);
  c.client_optimizer = ClientOptimizerChoice::kSgd;
  EXPECT_EQ(FedAvgOptionsFor(c).config.optimizer, gossip::LocalOptimizer::kSgd);
  EXPECT_EQ(RoundDriverOptionsFor(c).min_nodes, 4u);
  EXPECT_TRUE(fedavg.Validate().ok()) << fedavg.Validate().ToString();
}

}  // namespace
}  // namespace gl::node

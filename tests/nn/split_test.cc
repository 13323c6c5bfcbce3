#include "nn/split.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace gl::nn {
namespace {

std::string Name(char prefix, int i) {
  std::string name(1, prefix);
  name += std::to_string(i);
  return name;
}

// 1000 distinct names: label k has 10 * (k + 1) names for k < 13, plus filler on label 0.
Dataset MakeData() {
  Dataset d;
  d.labels = DefaultLabels();
  for (int k = 0; k < 13; ++k) {
    for (int i = 0; i < 10 * (k + 1); ++i) d.examples.push_back({Name('n', k * 1000 + i), k});
  }
  for (int i = 0; d.examples.size() < 1000; ++i) d.examples.push_back({Name('f', i), 0});
  return d;
}

std::vector<std::string> SortedNames(const std::vector<Dataset>& parts) {
  std::vector<std::string> names;
  for (const auto& p : parts) {
    for (const auto& e : p.examples) names.push_back(e.name + "/" + std::to_string(e.label));
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Mean over shards of the largest label's share of the shard.
double MeanTopLabelShare(const std::vector<Dataset>& shards) {
  double sum = 0;
  for (const auto& s : shards) {
    const auto counts = CountPerLabel(s);
    sum += static_cast<double>(*std::max_element(counts.begin(), counts.end())) / s.examples.size();
  }
  return sum / shards.size();
}

TEST(TrainValidationSplit, StratifiedDisjointCompleteDeterministic) {
  const Dataset d = MakeData();
  auto [train, validation] = TrainValidationSplit(d, 0.1, 7);
  EXPECT_EQ(SortedNames({train, validation}), SortedNames({d}));
  const auto all = CountPerLabel(d), val = CountPerLabel(validation);
  for (std::size_t k = 0; k < all.size(); ++k) {
    EXPECT_NEAR(static_cast<double>(val[k]), 0.1 * all[k], 0.51) << "label " << k;
  }
  auto [train2, validation2] = TrainValidationSplit(d, 0.1, 7);
  EXPECT_EQ(SortedNames({validation}), SortedNames({validation2}));
  auto [train3, validation3] = TrainValidationSplit(d, 0.1, 8);
  EXPECT_NE(SortedNames({validation}), SortedNames({validation3}));
}

class ShardTest : public ::testing::TestWithParam<ShardScheme> {};

TEST_P(ShardTest, DisjointCompleteNonEmptyDeterministic) {
  const Dataset d = MakeData();
  ShardOptions options;
  options.nodes = 8;
  options.scheme = GetParam();
  options.seed = 3;
  Result<std::vector<Dataset>> shards = MakeShards(d, options);
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  ASSERT_EQ(shards->size(), 8u);
  EXPECT_EQ(SortedNames(*shards), SortedNames({d}));  // every name exactly once
  for (const auto& s : *shards) EXPECT_FALSE(s.examples.empty());
  Result<std::vector<Dataset>> again = MakeShards(d, options);
  ASSERT_TRUE(again.ok());
  for (std::size_t i = 0; i < shards->size(); ++i) {
    EXPECT_EQ(SortedNames({(*shards)[i]}), SortedNames({(*again)[i]})) << "shard " << i;
  }
  options.seed = 4;
  EXPECT_NE(SortedNames({(*MakeShards(d, options))[0]}), SortedNames({(*shards)[0]}));
}

INSTANTIATE_TEST_SUITE_P(Schemes, ShardTest, ::testing::Values(ShardScheme::kIid, ShardScheme::kDirichlet),
                         [](const auto& info) { return info.param == ShardScheme::kIid ? "Iid" : "Dirichlet"; });

TEST(MakeShards, IidShardsAreBalanced) {
  ShardOptions options;
  options.nodes = 8;
  Result<std::vector<Dataset>> shards = MakeShards(MakeData(), options);
  ASSERT_TRUE(shards.ok());
  for (const auto& s : *shards) EXPECT_EQ(s.examples.size(), 125u);
}

TEST(MakeShards, DirichletSkewsLabelMixAndAlphaControlsIt) {
  const Dataset d = MakeData();
  ShardOptions options;
  options.nodes = 8;
  const double iid = MeanTopLabelShare(*MakeShards(d, options));
  options.scheme = ShardScheme::kDirichlet;
  options.alpha = 0.1;
  const double skewed = MeanTopLabelShare(*MakeShards(d, options));
  options.alpha = 1000;
  const double near_iid = MeanTopLabelShare(*MakeShards(d, options));
  EXPECT_GT(skewed, iid + 0.2) << "iid " << iid << " dirichlet(0.1) " << skewed;
  EXPECT_NEAR(near_iid, iid, 0.05);
}

TEST(MakeShards, RejectsBadOptions) {
  const Dataset d = MakeData();
  ShardOptions options;
  options.nodes = 0;
  EXPECT_FALSE(MakeShards(d, options).ok());
  options.nodes = 1001;
  EXPECT_FALSE(MakeShards(d, options).ok());
  options.nodes = 4;
  options.scheme = ShardScheme::kDirichlet;
  options.alpha = 0;
  EXPECT_FALSE(MakeShards(d, options).ok());
}

TEST(MakeShards, AsManyShardsAsNamesStillNoneEmpty) {
  Dataset d{DefaultLabels(), {{"a", 0}, {"b", 0}, {"c", 1}}};
  ShardOptions options;
  options.nodes = 3;
  options.scheme = ShardScheme::kDirichlet;
  Result<std::vector<Dataset>> shards = MakeShards(d, options);
  ASSERT_TRUE(shards.ok());
  for (const auto& s : *shards) EXPECT_EQ(s.examples.size(), 1u);
}

}  // namespace
}  // namespace gl::nn

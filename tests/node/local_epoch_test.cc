#include "node/local_epoch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace gl::node {
namespace {

TEST(LocalEpochOrderTest, ShardAtLeastTheMinimumMakesOnePermutation) {
  std::mt19937_64 rng(1);
  std::vector<std::size_t> order{7, 7, 7};
  LocalEpochOrder(order, 40, 32, rng);
  ASSERT_EQ(order.size(), 40u);
  std::vector<std::size_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_FALSE(std::is_sorted(order.begin(), order.end()));  // shuffled
}

TEST(LocalEpochOrderTest, TinyShardIsPassedOverWholeUntilTheMinimum) {
  std::mt19937_64 rng(2);
  std::vector<std::size_t> order;
  LocalEpochOrder(order, 15, 128, rng);
  ASSERT_EQ(order.size(), 9u * 15);  // ceil(128 / 15) = 9 whole passes
  for (std::size_t pass = 0; pass < 9; ++pass) {
    std::vector<std::size_t> one(order.begin() + pass * 15, order.begin() + (pass + 1) * 15);
    std::sort(one.begin(), one.end());
    for (std::size_t i = 0; i < 15; ++i) EXPECT_EQ(one[i], i) << "pass " << pass;
  }
  // Passes are shuffled independently.
  EXPECT_FALSE(std::equal(order.begin(), order.begin() + 15, order.begin() + 15));
}

TEST(LocalEpochOrderTest, ZeroMinimumIsOnePassAndAnEmptyShardNone) {
  std::mt19937_64 rng(3);
  std::vector<std::size_t> order;
  LocalEpochOrder(order, 5, 0, rng);
  EXPECT_EQ(order.size(), 5u);
  LocalEpochOrder(order, 0, 128, rng);
  EXPECT_TRUE(order.empty());
}

}  // namespace
}  // namespace gl::node

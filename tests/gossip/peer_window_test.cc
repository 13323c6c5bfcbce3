// The robust gossip merge: coordinate-wise trimmed mean and the window of distinct senders,
// against values computed by hand.
#include "gossip/merge/peer_window.h"

#include <gtest/gtest.h>

#include "gossip/merge/coordinate_trim.h"

namespace gl::gossip {
namespace {

ModelSnapshot Model(std::vector<float> params, std::uint64_t age = 10) {
  return ModelSnapshot{"sig", std::move(params), age, 10};
}

TEST(CoordinateTrimmedMeanTest, WithoutTrimmingIsThePlainMean) {
  const std::vector<float> a{1.0f, -2.0f}, b{2.0f, 0.0f}, c{6.0f, 8.0f};
  EXPECT_EQ(CoordinateTrimmedMean({&a, &b, &c}, 0), (std::vector<float>{3.0f, 2.0f}));
}

TEST(CoordinateTrimmedMeanTest, IgnoresOneAbsurdModel) {
  const std::vector<float> a{1.0f, 4.0f}, b{2.0f, 5.0f}, c{3.0f, 6.0f}, d{4.0f, 7.0f}, absurd{1e9f, -1e9f};
  // Per coordinate the absurd value is the largest (or smallest) and trimmed with its opposite end.
  EXPECT_EQ(CoordinateTrimmedMean({&a, &absurd, &b, &c, &d}, 1), (std::vector<float>{3.0f, 5.0f}));
}

TEST(CoordinateTrimmedMeanTest, TrimCountKeepsAtLeastOneValue) {
  EXPECT_EQ(TrimCount(2, 0.2), 0u);
  EXPECT_EQ(TrimCount(3, 0.2), 1u);
  EXPECT_EQ(TrimCount(5, 0.2), 1u);
  EXPECT_EQ(TrimCount(10, 0.2), 2u);
  EXPECT_EQ(TrimCount(4, 0.45), 1u);
}

TEST(PeerWindowTest, OneRemoteIsAveraged) {
  PeerWindow window(4);
  window.Add("a@h", Model({4.0f}));
  ModelSnapshot local = Model({2.0f});
  window.MergeInto(local);
  EXPECT_EQ(local.params[0], 3.0f);
}

TEST(PeerWindowTest, IgnoresOneAbsurdPeer) {
  PeerWindow window(4);
  window.Add("a@h", Model({1.0f, 1.0f}));
  window.Add("b@h", Model({3.0f, 3.0f}));
  window.Add("c@h", Model({2.0f, 2.0f}));
  window.Add("evil@h", Model({1e6f, -1e6f}, 1000000000));
  ModelSnapshot local = Model({2.0f, 2.0f});
  window.MergeInto(local);
  // Five values per coordinate, one trimmed at each end: the mean of the three honest middle ones.
  EXPECT_FLOAT_EQ(local.params[0], 7.0f / 3.0f);
  EXPECT_FLOAT_EQ(local.params[1], 5.0f / 3.0f);
  EXPECT_EQ(local.age, 20u);  // the claimed age is capped at twice the local one
}

TEST(PeerWindowTest, KeepsTheLatestModelOfEachOfTheLastSenders) {
  PeerWindow window(2);
  window.Add("a@h", Model({100.0f}));
  window.Add("b@h", Model({2.0f}));
  window.Add("a@h", Model({4.0f}));  // replaces a's first model, a is now the most recent
  EXPECT_EQ(window.size(), 2u);
  window.Add("c@h", Model({6.0f}));  // b, the least recently heard, is forgotten
  EXPECT_EQ(window.size(), 2u);
  ModelSnapshot local = Model({5.0f});
  window.MergeInto(local);
  EXPECT_EQ(local.params[0], 5.0f);  // median of {5, 4, 6}; neither 100 nor 2 is left
}

TEST(PeerWindowTest, EmptyOrClearedWindowLeavesTheModel) {
  PeerWindow window(3);
  window.Add("a@h", Model({9.0f}));
  window.Clear();
  ModelSnapshot local = Model({1.0f}, 7);
  window.MergeInto(local);
  EXPECT_EQ(local.params[0], 1.0f);
  EXPECT_EQ(local.age, 7u);
}

}  // namespace
}  // namespace gl::gossip

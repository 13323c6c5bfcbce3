#include "gossip/merge/merge.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace gl::gossip {
namespace {

ModelSnapshot Model(std::vector<float> params, std::uint64_t age) { return ModelSnapshot{"sig", std::move(params), age, 10}; }

TEST(MergeTest, AgeWeightedUsesAgeOverSumOfAges) {
  ModelSnapshot local = Model({1.0f, 2.0f}, 3);
  MergeInto(local, Model({5.0f, 6.0f}, 1), MergeRule::kAgeWeighted);
  EXPECT_EQ(local.params, (std::vector<float>{2.0f, 3.0f}));  // 3/4 * local + 1/4 * remote
  EXPECT_EQ(local.age, 3u);
}

TEST(MergeTest, AgeWeightedYoungerLocalTakesMoreOfTheRemote) {
  ModelSnapshot local = Model({0.0f}, 3);
  MergeInto(local, Model({9.0f}, 6), MergeRule::kAgeWeighted);
  EXPECT_EQ(local.params[0], 6.0f);  // 3/9 * 0 + 6/9 * 9: ratio 2 is within the cap
  EXPECT_EQ(local.age, 6u);
}

TEST(MergeTest, ClaimedAgeIsCappedAtTwiceTheLocalAge) {
  ModelSnapshot local = Model({0.0f}, 100);
  MergeInto(local, Model({3.0f}, 1000000000), MergeRule::kAgeWeighted);
  EXPECT_FLOAT_EQ(local.params[0], 2.0f);  // credited with age 200: 100/300 * 0 + 200/300 * 3
  EXPECT_EQ(local.age, 200u);              // the lie does not spread through the local age either
}

TEST(MergeTest, FreshLocalTakesHalfOfAnyRemote) {
  ModelSnapshot local = Model({0.0f}, 0);
  MergeInto(local, Model({4.0f}, 1000000000), MergeRule::kAgeWeighted);
  EXPECT_EQ(local.params[0], 2.0f);
  EXPECT_EQ(local.age, 0u);
}

TEST(MergeTest, CappedRemoteAgeSaturates) {
  EXPECT_EQ(CappedRemoteAge(5, 7), 7u);
  EXPECT_EQ(CappedRemoteAge(5, 11), 10u);
  EXPECT_EQ(CappedRemoteAge(UINT64_MAX, UINT64_MAX), UINT64_MAX);
}

TEST(MergeTest, HugeAgesDoNotWrapTheWeights) {
  ModelSnapshot local = Model({0.0f}, UINT64_MAX);
  MergeInto(local, Model({4.0f}, 1), MergeRule::kAgeWeighted);
  EXPECT_LT(local.params[0], 1e-6f);  // the remote's age is nothing next to the local one
  EXPECT_EQ(local.age, UINT64_MAX);
}

TEST(MergeTest, MergedAgeGainIsBoundedByOwnTraining) {
  EXPECT_EQ(BoundedMergedAge(1000, 2000, 32), 1000u + 16 * 32);
  EXPECT_EQ(BoundedMergedAge(1000, 1100, 32), 1100u);      // an honest, close age is taken as it is
  EXPECT_EQ(BoundedMergedAge(1000, 500, 32), 1000u);       // never below the local age
  EXPECT_EQ(BoundedMergedAge(1000, UINT64_MAX, 0), 1000u);  // nothing trained since: nothing gained
  EXPECT_EQ(BoundedMergedAge(UINT64_MAX - 5, UINT64_MAX, UINT64_MAX), UINT64_MAX);
  EXPECT_EQ(SaturatingAdd(UINT64_MAX - 1, 32), UINT64_MAX);
  EXPECT_EQ(SaturatingAdd(40, 2), 42u);
}

TEST(MergeTest, AClaimedHugeAgeDoesNotCompoundNorSpread) {
  // Node a merges a liar's 2^64 - 1 and node b at every step; b merges only a; both train 32 samples a step.
  ModelSnapshot a = Model({0.0f}, 1000), b = Model({0.0f}, 1000);
  constexpr std::uint64_t kSteps = 200, kBatch = 32;
  for (std::uint64_t step = 0; step < kSteps; ++step) {
    a.age = SaturatingAdd(a.age, kBatch);
    b.age = SaturatingAdd(b.age, kBatch);
    for (const ModelSnapshot& remote : {Model({1.0f}, UINT64_MAX), b}) {
      const std::uint64_t before = a.age;
      MergeInto(a, remote, MergeRule::kAgeWeighted);
      a.age = BoundedMergedAge(before, a.age, kBatch);
    }
    const std::uint64_t before = b.age;
    MergeInto(b, a, MergeRule::kAgeWeighted);
    b.age = BoundedMergedAge(before, b.age, kBatch);
  }
  const std::uint64_t ceiling = 1000 + kSteps * kBatch * (1 + 2 * kMaxAgeGainPerOwnSample);
  EXPECT_LE(a.age, ceiling);  // linear in the samples trained, not doubled at every merge
  EXPECT_LE(b.age, 1000 + kSteps * kBatch * (1 + kMaxAgeGainPerOwnSample));
}

TEST(MergeTest, AgeWeightedWithBothAgesZeroIsTheMean) {
  ModelSnapshot local = Model({1.0f, -1.0f}, 0);
  MergeInto(local, Model({3.0f, 1.0f}, 0), MergeRule::kAgeWeighted);
  EXPECT_EQ(local.params, (std::vector<float>{2.0f, 0.0f}));
  EXPECT_EQ(local.age, 0u);
}

TEST(MergeTest, AverageIgnoresAges) {
  ModelSnapshot local = Model({1.0f, 2.0f}, 100);
  MergeInto(local, Model({3.0f, 4.0f}, 1), MergeRule::kAverage);
  EXPECT_EQ(local.params, (std::vector<float>{2.0f, 3.0f}));
  EXPECT_EQ(local.age, 100u);
}

TEST(MergeTest, AgeIsTheMaximumOfBoth) {
  ModelSnapshot local = Model({0.0f}, 5);
  MergeInto(local, Model({0.0f}, 9), MergeRule::kAverage);
  EXPECT_EQ(local.age, 9u);
}

TEST(ValidateRemoteTest, AcceptsMatchingFiniteModel) {
  EXPECT_TRUE(ValidateRemote(Model({1.0f, 2.0f}, 1), "sig", 2).ok());
}

TEST(ValidateRemoteTest, RejectsWrongSignature) {
  Status status = ValidateRemote(Model({1.0f}, 1), "other", 1);
  EXPECT_EQ(status.code(), Status::Code::kRejected);
  EXPECT_NE(status.message().find("signature"), std::string::npos);
}

TEST(ValidateRemoteTest, RejectsWrongLength) {
  EXPECT_EQ(ValidateRemote(Model({1.0f, 2.0f}, 1), "sig", 3).code(), Status::Code::kRejected);
  EXPECT_EQ(ValidateRemote(Model({}, 1), "sig", 1).code(), Status::Code::kRejected);
}

TEST(ValidateRemoteTest, RejectsNonFiniteValues) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    Status status = ValidateRemote(Model({1.0f, bad, 3.0f}, 1), "sig", 3);
    EXPECT_EQ(status.code(), Status::Code::kRejected) << bad;
    EXPECT_NE(status.message().find("parameter 1"), std::string::npos);
  }
}

}  // namespace
}  // namespace gl::gossip

#include "gossip/merge.h"

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

TEST(MergeTest, AgeWeightedYoungLocalTakesMostlyRemote) {
  ModelSnapshot local = Model({0.0f}, 1);
  MergeInto(local, Model({8.0f}, 7), MergeRule::kAgeWeighted);
  EXPECT_EQ(local.params[0], 7.0f);  // 1/8 * 0 + 7/8 * 8
  EXPECT_EQ(local.age, 7u);
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
  ModelSnapshot local = Model({0.0f}, 2);
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

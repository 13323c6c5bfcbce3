#include "node/shared_model.h"

#include <gtest/gtest.h>

namespace gl::node {
namespace {

gossip::ModelSnapshot Model(float value, std::uint64_t age) { return {"sig", {value, value}, age, 10}; }
gossip::ReceivedModel From(const std::string& sender, gossip::ModelSnapshot model) { return {sender, std::move(model)}; }

TEST(SharedModelTest, SnapshotIsWhatWasPublished) {
  SharedModel shared(Model(0, 0));
  shared.Publish({1, 2}, 7);
  gossip::ModelSnapshot s = shared.Snapshot();
  EXPECT_EQ(s.params, (std::vector<float>{1, 2}));
  EXPECT_EQ(s.age, 7u);
  EXPECT_EQ(s.signature, "sig");
  EXPECT_EQ(s.local_samples, 10u);
}

TEST(SharedModelTest, OffersAreTakenOnceInOrder) {
  SharedModel shared(Model(0, 0));
  shared.Offer(From("a@h", Model(1, 1)));
  shared.Offer(From("b@h", Model(2, 2)));
  std::vector<gossip::ReceivedModel> taken = shared.TakeOffers();
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0].sender, "a@h");
  EXPECT_EQ(taken[0].model.age, 1u);
  EXPECT_EQ(taken[1].model.age, 2u);
  EXPECT_TRUE(shared.TakeOffers().empty());
}

TEST(SharedModelTest, QueueIsBoundedAndDropsTheOldest) {
  SharedModel shared(Model(0, 0));
  for (std::uint64_t i = 0; i < SharedModel::kMaxPendingOffers + 3; ++i) shared.Offer(From("a@h", Model(1, i)));
  std::vector<gossip::ReceivedModel> taken = shared.TakeOffers();
  ASSERT_EQ(taken.size(), SharedModel::kMaxPendingOffers);
  EXPECT_EQ(taken.front().model.age, 3u);
  EXPECT_EQ(shared.offers_dropped(), 3u);
}

}  // namespace
}  // namespace gl::node

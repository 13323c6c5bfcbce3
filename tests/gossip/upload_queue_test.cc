// Engine::WhenUploadAllows in virtual time: sends queued together start one budget's worth at
// a time, in order, each when the budget's rate has paid for it; without a budget at once;
// never after Stop().
#include <gtest/gtest.h>

#include <vector>

#include "gossip/clock.h"
#include "round_test_util.h"

namespace gl::gossip {
namespace {

using std::chrono::milliseconds;

class UploadQueueTest : public ::testing::Test {
 protected:
  // An engine (not started: no traffic of its own) whose upload budget is `kbps`.
  void MakeEngine(double kbps) {
    Options options = FastRoundEngineOptions("coordinator");
    options.max_upload_kbps = kbps;
    node_ = MakeRoundTestNode(network_, io_, "10.0.0.1:7070", options);
  }
  // Queues `count` sends of `bytes`; each records the virtual time it ran at.
  void Queue(int count, std::uint64_t bytes) {
    for (int i = 0; i < count; ++i) {
      node_.engine->WhenUploadAllows(bytes, [this, i] { ran_.push_back({i, Clock::now() - start_}); });
    }
  }
  void RunFor(milliseconds span) {
    const Clock::time_point end = Clock::now() + span;
    while (Clock::now() < end) {
      time_.AdvanceTo(Clock::now() + milliseconds(10));
      io_.poll();
    }
  }

  VirtualTime time_{Clock::time_point{} + std::chrono::hours(1)};
  Clock::time_point start_ = Clock::now();
  asio::io_context io_;
  InMemoryNetwork network_{io_};
  TestNode node_;
  std::vector<std::pair<int, Clock::duration>> ran_;  // (send, when)
};

TEST_F(UploadQueueTest, QueuedSendsStartInOrderWhenTheBudgetHasPaidForThem) {
  MakeEngine(80);  // 10,000 bytes/s, bursts of 20,000
  Queue(4, 15'000);
  RunFor(milliseconds(6000));
  // Tokens: 20,000 -> the first at once, 5,000 left; 10,000 more by 1 s; then 15,000 every 1.5 s.
  const std::vector<milliseconds> expected{milliseconds(0), milliseconds(1000), milliseconds(2500),
                                           milliseconds(4000)};
  ASSERT_EQ(ran_.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(ran_[i].first, static_cast<int>(i));
    EXPECT_GE(ran_[i].second, expected[i]) << "send " << i;
    EXPECT_LE(ran_[i].second, expected[i] + milliseconds(10)) << "send " << i;  // one step of RunFor
  }
}

TEST_F(UploadQueueTest, WithoutABudgetEverySendStartsAtOnce) {
  MakeEngine(0);
  Queue(4, 1'000'000);
  ASSERT_EQ(ran_.size(), 4u);
  for (const auto& [send, when] : ran_) EXPECT_EQ(when, Clock::duration::zero()) << "send " << send;
}

TEST_F(UploadQueueTest, ASendStillQueuedAtStopNeverRuns) {
  MakeEngine(80);
  Queue(2, 15'000);
  ASSERT_EQ(ran_.size(), 1u);
  node_.engine->Stop();
  Queue(1, 1);
  RunFor(milliseconds(3000));
  EXPECT_EQ(ran_.size(), 1u);
}

}  // namespace
}  // namespace gl::gossip

// UploadBudget with injected time: the minute's accounting, and a node that starts every
// transfer it is allowed stays within 10% of its budget over every minute.
#include "gossip/upload_budget.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <random>

namespace gl::gossip {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using TimePoint = UploadBudget::Clock::time_point;

const TimePoint kStart = TimePoint{} + std::chrono::hours(100);

TEST(UploadBudgetTest, CountsTheLastMinuteOnly) {
  UploadBudget budget(0);
  budget.Observe(kStart, 1000);
  budget.Observe(kStart + seconds(30), 3000);  // 2000 more
  EXPECT_EQ(budget.BytesInWindow(kStart + seconds(30)), 3000u);
  EXPECT_EQ(budget.BytesInWindow(kStart + seconds(59)), 3000u);
  EXPECT_EQ(budget.BytesInWindow(kStart + seconds(60)), 2000u);  // the first second left the window
  EXPECT_EQ(budget.BytesInWindow(kStart + seconds(90)), 0u);
  budget.Observe(kStart + seconds(200), 3500);  // a slot reused a few windows later starts empty
  EXPECT_EQ(budget.BytesInWindow(kStart + seconds(200)), 500u);
}

TEST(UploadBudgetTest, RateIsOverTheMinuteOrTheTimeSinceTheFirstObservation) {
  UploadBudget budget(0);
  EXPECT_EQ(budget.BytesPerSecond(kStart), 0);
  budget.Observe(kStart, 0);
  budget.Observe(kStart + seconds(10), 50'000);
  EXPECT_DOUBLE_EQ(budget.BytesPerSecond(kStart + seconds(10)), 5000);
  budget.Observe(kStart + seconds(120), 50'000 + 600'000);
  EXPECT_DOUBLE_EQ(budget.BytesPerSecond(kStart + seconds(120)), 10'000);
}

TEST(UploadBudgetTest, UnlimitedAllowsEverything) {
  UploadBudget budget(0);
  budget.Observe(kStart, 1ull << 40);
  EXPECT_TRUE(budget.MayStart(kStart, 1ull << 40));
}

TEST(UploadBudgetTest, ReservedTransfersStartOneAtATimeAndAreChargedOnce) {
  UploadBudget budget(80);  // 10,000 bytes/s, bursts of 20,000 bytes
  budget.Observe(kStart, 0);
  // Three 15,000-byte requests queued at once: the first goes, the others wait their turn.
  EXPECT_EQ(budget.WaitFor(kStart, 15'000), UploadBudget::Clock::duration::zero());
  budget.Reserve(kStart, 15'000);
  EXPECT_EQ(budget.WaitFor(kStart, 15'000), seconds(1));  // 5,000 left: 10,000 more to earn
  EXPECT_FALSE(budget.MayStart(kStart + milliseconds(999), 15'000));
  budget.Observe(kStart + milliseconds(500), 15'000);  // the reserved bytes go out: not charged again
  EXPECT_TRUE(budget.MayStart(kStart + seconds(1), 15'000));
  budget.Reserve(kStart + seconds(1), 15'000);
  EXPECT_EQ(budget.WaitFor(kStart + seconds(1), 15'000), milliseconds(1500));
  // Bytes beyond what was reserved (a reply) are charged as they are seen.
  budget.Observe(kStart + seconds(1), 15'000 + 15'000 + 5'000);
  EXPECT_EQ(budget.WaitFor(kStart + seconds(1), 15'000), seconds(2));
  EXPECT_EQ(UploadBudget(0).WaitFor(kStart, 1ull << 40), UploadBudget::Clock::duration::zero());
}

TEST(UploadBudgetTest, StartsWhatTheTokensCoverAndRepaysWhatRepliesSpent) {
  UploadBudget budget(80);  // 80 kbit/s = 10,000 bytes/s, bursts of 20,000 bytes
  EXPECT_DOUBLE_EQ(budget.BytesPerSecondBudget(), 10'000);
  budget.Observe(kStart, 0);
  EXPECT_TRUE(budget.MayStart(kStart, 20'000));
  EXPECT_FALSE(budget.MayStart(kStart, 20'001));
  budget.Observe(kStart, 15'000);  // 5,000 tokens left
  EXPECT_FALSE(budget.MayStart(kStart, 6'000));
  EXPECT_TRUE(budget.MayStart(kStart + milliseconds(100), 6'000));
  budget.Observe(kStart + milliseconds(100), 15'000 + 36'000);  // replies: 30,000 bytes in debt
  EXPECT_FALSE(budget.MayStart(kStart + milliseconds(3000), 1'000));
  EXPECT_TRUE(budget.MayStart(kStart + milliseconds(3300), 1'000));
  // A transfer larger than the burst still starts, once the tokens cover it.
  budget.Observe(kStart + seconds(10), 51'000);
  EXPECT_FALSE(budget.MayStart(kStart + seconds(10), 50'000));
  EXPECT_TRUE(budget.MayStart(kStart + seconds(13), 50'000));
}

// The engine's use: every gossip tick (300 ms) it observes the transport's total and starts
// an exchange (a 76 KB int8 model) if the budget allows; peers' requests make it send
// replies it does not hold back (20% of the budget, at random). Every minute of 10 simulated
// ones stays within 10% of the budget, and the node uses at least 90% of it on average.
TEST(UploadBudgetTest, AnEngineStartingWhatItMayStaysWithinTenPercentOverEveryMinute) {
  constexpr double kKbps = 400;  // 50,000 bytes/s
  constexpr double kBytesPerSecond = kKbps * 1000 / 8;
  constexpr std::uint64_t kFrameBytes = 76'000;
  UploadBudget budget(kKbps);
  std::mt19937_64 rng(1);
  const auto tick = milliseconds(300);
  std::bernoulli_distribution reply_due(0.2 * kBytesPerSecond * 0.3 / kFrameBytes);  // per tick
  std::uint64_t total = 0;
  std::deque<std::pair<TimePoint, std::uint64_t>> sent;  // what the node sent, and when
  const auto end = kStart + std::chrono::minutes(10);
  for (TimePoint now = kStart; now < end; now += tick) {
    if (reply_due(rng)) {
      total += kFrameBytes;
      sent.emplace_back(now, kFrameBytes);
    }
    budget.Observe(now, total);
    if (budget.MayStart(now, kFrameBytes)) {
      total += kFrameBytes;
      sent.emplace_back(now + milliseconds(5), kFrameBytes);
    }
  }
  const double minute = kBytesPerSecond * 60;
  for (TimePoint from = kStart; from + seconds(60) <= end; from += seconds(1)) {
    std::uint64_t in_minute = 0;
    for (const auto& [when, bytes] : sent) in_minute += (when >= from && when < from + seconds(60)) ? bytes : 0;
    ASSERT_LE(static_cast<double>(in_minute), 1.1 * minute)
        << "minute from +" << std::chrono::duration_cast<seconds>(from - kStart).count() << " s";
  }
  const double average = static_cast<double>(total) / 600;
  EXPECT_LE(average, 1.1 * kBytesPerSecond);
  EXPECT_GE(average, 0.9 * kBytesPerSecond);
  EXPECT_NEAR(budget.BytesPerSecond(end), kBytesPerSecond, 0.1 * kBytesPerSecond);
}

}  // namespace
}  // namespace gl::gossip

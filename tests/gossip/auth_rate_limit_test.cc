// HostRateLimiter and LogGate on a synthetic clock.
#include "gossip/wire/auth_rate_limit.h"

#include <gtest/gtest.h>

namespace gl::gossip {
namespace {

using std::chrono::milliseconds;
const HostRateLimiter::Clock::time_point kT0{};

// Host names without operator+ on strings (GCC 12 -Wrestrict false positive in Release).
std::string Host(char prefix, int i) {
  std::string name(1, prefix);
  name += std::to_string(i);
  return name;
}

TEST(HostRateLimiterTest, BurstThenRefillAtTheRate) {
  HostRateLimiter limiter(10, 20);
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += limiter.Allow("10.0.0.1", kT0);
  EXPECT_EQ(allowed, 20);
  EXPECT_FALSE(limiter.Allow("10.0.0.1", kT0 + milliseconds(50)));
  EXPECT_TRUE(limiter.Allow("10.0.0.1", kT0 + milliseconds(150)));  // 1.5 tokens refilled
}

TEST(HostRateLimiterTest, AConnectionTakesATokenThatPaysForItsFirstFrame) {
  HostRateLimiter limiter(10, 2);
  EXPECT_TRUE(limiter.AllowConnection("a", kT0));
  EXPECT_TRUE(limiter.Allow("a", kT0));  // prepaid
  EXPECT_TRUE(limiter.Allow("a", kT0));  // the second token
  EXPECT_FALSE(limiter.Allow("a", kT0));
  EXPECT_FALSE(limiter.AllowConnection("a", kT0 + milliseconds(50)));
  EXPECT_TRUE(limiter.AllowConnection("a", kT0 + milliseconds(100)));  // one token refilled
}

TEST(HostRateLimiterTest, ConnectionsWithoutFramesCannotSaveUpMoreThanABurst) {
  HostRateLimiter limiter(1000, 3);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(limiter.AllowConnection("a", kT0 + milliseconds(10 * i)));
  const auto later = kT0 + milliseconds(1000);
  EXPECT_TRUE(limiter.AllowConnection("a", later));  // refilled: 3 tokens, now 2
  int frames = 0;
  while (limiter.Allow("a", later)) ++frames;
  EXPECT_EQ(frames, 3 + 2);  // the prepaid ones (capped at the burst), then the tokens left
}

TEST(HostRateLimiterTest, HostsAreIndependent) {
  HostRateLimiter limiter(1, 1);
  EXPECT_TRUE(limiter.Allow("a", kT0));
  EXPECT_FALSE(limiter.Allow("a", kT0));
  EXPECT_TRUE(limiter.Allow("b", kT0));
}

TEST(HostRateLimiterTest, ZeroRateMeansNoLimit) {
  HostRateLimiter limiter(0, 0);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.Allow("a", kT0));
}

TEST(HostRateLimiterTest, ManyHostsStayBoundedAndAFloodingOneStaysThrottled) {
  HostRateLimiter limiter(1, 1, 8);
  EXPECT_TRUE(limiter.Allow("flooder", kT0));
  EXPECT_FALSE(limiter.Allow("flooder", kT0));
  // Fresh hosts beyond the bound evict the idle ones first, never the empty bucket...
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(limiter.Allow(Host('h', i), kT0 + milliseconds(1)));
  EXPECT_FALSE(limiter.Allow("flooder", kT0 + milliseconds(2)));
  // ...and even a table of hosts that all flood cannot grow past the bound (reset instead).
  for (int i = 0; i < 100; ++i) {
    limiter.Allow(Host('x', i), kT0 + milliseconds(3));
    ASSERT_LE(limiter.tracked_hosts(), 8u);
  }
}

TEST(LogGateTest, OncePerIntervalPerKeyWithTheSuppressedCount) {
  LogGate gate(milliseconds(1000));
  std::uint64_t suppressed = 99;
  EXPECT_TRUE(gate.ShouldLog("a", kT0, suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_FALSE(gate.ShouldLog("a", kT0 + milliseconds(10), suppressed));
  EXPECT_FALSE(gate.ShouldLog("a", kT0 + milliseconds(20), suppressed));
  EXPECT_TRUE(gate.ShouldLog("b", kT0 + milliseconds(20), suppressed));
  EXPECT_TRUE(gate.ShouldLog("a", kT0 + milliseconds(1000), suppressed));
  EXPECT_EQ(suppressed, 2u);
}

}  // namespace
}  // namespace gl::gossip

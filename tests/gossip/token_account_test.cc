// TokenAccount: the randomized token account never lets sends outrun gossip intervals, keeps
// its balance in [0, capacity], saves while poor and sends for sure at capacity, and reacts
// to a received model with balance / reactivity sends.
#include "gossip/token_account.h"

#include <gtest/gtest.h>

namespace gl::gossip {
namespace {

// Ticks interleaved with receipts at random; a refused send (every 7th) gives its token back.
TEST(TokenAccountTest, SendsNeverOutrunTicksAndTheBalanceStaysInRange) {
  for (const auto& [capacity, reactivity] : {std::pair{10, 5}, std::pair{1, 1}, std::pair{20, 1}, std::pair{8, 8}}) {
    TokenAccount account(capacity, reactivity);
    std::mt19937_64 rng(capacity * 100 + reactivity);
    std::bernoulli_distribution receipt(0.7);
    int ticks = 0, sends = 0, reactive = 0;
    for (int step = 0; step < 20000; ++step) {
      ++ticks;
      if (account.OnTick(rng)) {
        if (step % 7 == 0) {
          account.Refund();
        } else {
          ++sends;
        }
      }
      while (receipt(rng)) {
        const int reaction = account.OnReceived(rng);
        reactive += reaction;
        sends += reaction;
      }
      ASSERT_GE(account.balance(), 0);
      ASSERT_LE(account.balance(), capacity);
      ASSERT_LE(sends, ticks) << "C " << capacity << " A " << reactivity << " step " << step;
    }
    EXPECT_GT(reactive, 0) << "C " << capacity << " A " << reactivity;
    EXPECT_GT(sends, ticks / 2) << "an account that never sends keeps the bound trivially";
  }
}

TEST(TokenAccountTest, SavesBelowReactivityMinusOneAndSendsSurelyAtCapacity) {
  TokenAccount account(/*capacity=*/6, /*reactivity=*/4);
  std::mt19937_64 rng(1);
  for (int tick = 0; tick < 3; ++tick) EXPECT_FALSE(account.OnTick(rng)) << tick;  // balance 0, 1, 2 < A - 1
  EXPECT_EQ(account.balance(), 3);
  while (account.balance() < 6) account.Refund();
  account.Refund();
  EXPECT_EQ(account.balance(), 6);  // capped
  for (int tick = 0; tick < 100; ++tick) ASSERT_TRUE(account.OnTick(rng));
  EXPECT_EQ(account.balance(), 6);  // a proactive send spends the tick's token, not the balance
}

TEST(TokenAccountTest, AReceivedModelIsPassedOnToBalanceOverReactivityPeers) {
  TokenAccount account(/*capacity=*/10, /*reactivity=*/3);
  std::mt19937_64 rng(2);
  EXPECT_EQ(account.OnReceived(rng), 0);  // nothing saved, nothing sent
  for (int i = 0; i < 9; ++i) account.Refund();
  EXPECT_EQ(account.OnReceived(rng), 3);  // 9 / 3
  EXPECT_EQ(account.balance(), 6);
  // 4 / 3: 1 or 2, 2 with probability 1/3.
  int twos = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    TokenAccount four(10, 3);
    for (int i = 0; i < 4; ++i) four.Refund();
    const int sends = four.OnReceived(rng);
    ASSERT_TRUE(sends == 1 || sends == 2) << sends;
    twos += sends == 2;
  }
  EXPECT_NEAR(twos / 3000.0, 1.0 / 3, 0.04);
}

}  // namespace
}  // namespace gl::gossip

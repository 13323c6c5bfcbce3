// The simulation's event scheduler (EventQueue and Step): events at one time run in the order
// they were scheduled, the virtual time never goes backwards and moves by at most `tick` while
// engines run, an io_context timer fires at its virtual time (at most `tick` late when that
// falls between steps, never early), and a long virtual run takes no real time.
#include "node/sim/event_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gl::node::sim {
namespace {

using gossip::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

const Clock::time_point kStart = Clock::time_point{} + std::chrono::hours(1);

TEST(EventQueueTest, EarliestFirstAndTiesInTheOrderScheduled) {
  EventQueue events;
  std::string ran;
  events.At(kStart + seconds(2), [&] { ran += "c"; });
  events.At(kStart + seconds(1), [&] { ran += "a"; });
  events.At(kStart + seconds(2), [&] { ran += "d"; });
  events.At(kStart + seconds(1), [&] { ran += "b"; });
  events.At(kStart + seconds(3), [&] { ran += "e"; });
  EXPECT_EQ(events.next(), kStart + seconds(1));
  EXPECT_EQ(events.RunDue(kStart + seconds(2)), 4u);
  EXPECT_EQ(ran, "abcd");
  EXPECT_EQ(events.next(), kStart + seconds(3));  // not due yet, still there
  EXPECT_EQ(events.RunDue(kStart + seconds(3)), 1u);
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(events.next(), Clock::time_point::max());
}

TEST(EventQueueTest, AnEventScheduledForADueTimeRunsInTheSameCallAfterThoseBeforeIt) {
  EventQueue events;
  std::string ran;
  events.At(kStart, [&] {
    ran += "a";
    events.At(kStart, [&] { ran += "c"; });                 // due now: after b, scheduled before it
    events.At(kStart + seconds(1), [&] { ran += "late"; });  // not due
  });
  events.At(kStart, [&] { ran += "b"; });
  EXPECT_EQ(events.RunDue(kStart), 3u);
  EXPECT_EQ(ran, "abc");
  EXPECT_FALSE(events.empty());
}

class StepTest : public ::testing::Test {
 protected:
  gossip::VirtualTime time_{kStart};
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  EventQueue events_;
};

TEST_F(StepTest, WithoutTickTheTimeJumpsToTheNextEvent) {
  std::vector<Clock::time_point> ran_at;
  events_.At(kStart + std::chrono::hours(5), [&] { ran_at.push_back(Clock::now()); });
  events_.At(kStart + std::chrono::hours(9), [&] { ran_at.push_back(Clock::now()); });
  Step(time_, io_, events_, Clock::time_point::max(), Clock::duration::zero());
  EXPECT_EQ(ran_at, std::vector<Clock::time_point>{kStart + std::chrono::hours(5)});
  Step(time_, io_, events_, kStart + std::chrono::hours(7), Clock::duration::zero());
  EXPECT_EQ(time_.now(), kStart + std::chrono::hours(7));  // never past the end
  EXPECT_EQ(ran_at.size(), 1u);
}

TEST_F(StepTest, AnEventInThePastRunsNowAndTheTimeStays) {
  time_.AdvanceTo(kStart + seconds(10));
  std::optional<Clock::time_point> ran_at;
  events_.At(kStart + seconds(3), [&] { ran_at = Clock::now(); });
  Step(time_, io_, events_, Clock::time_point::max(), milliseconds(10));
  EXPECT_EQ(ran_at, kStart + seconds(10));
  EXPECT_EQ(time_.now(), kStart + seconds(10));
}

TEST_F(StepTest, WithTickTheTimeMovesAtMostATickAndNeverBack) {
  const Clock::duration tick = milliseconds(10);
  events_.At(kStart + milliseconds(95), [] {});
  events_.At(kStart + milliseconds(33), [] {});
  events_.At(kStart + milliseconds(33), [] {});
  std::vector<Clock::time_point> steps;
  while (time_.now() < kStart + milliseconds(200)) {
    const Clock::time_point before = time_.now();
    Step(time_, io_, events_, kStart + milliseconds(200), tick);
    EXPECT_GT(time_.now(), before);
    EXPECT_LE(time_.now() - before, tick);
    steps.push_back(time_.now());
  }
  // Ticks from the start, and each event's time exactly.
  EXPECT_EQ(steps[2], kStart + milliseconds(30));
  EXPECT_EQ(steps[3], kStart + milliseconds(33));
  EXPECT_EQ(steps[4], kStart + milliseconds(43));
  EXPECT_NE(std::find(steps.begin(), steps.end(), kStart + milliseconds(95)), steps.end());
  EXPECT_EQ(steps.back(), kStart + milliseconds(200));
}

TEST_F(StepTest, ATimerFiresAtItsVirtualTimeOnAStepAndAtMostATickLateBetweenSteps) {
  const Clock::duration tick = milliseconds(10);
  gossip::Timer on_step(io_, milliseconds(40));   // a tick boundary
  gossip::Timer at_event(io_, milliseconds(57));  // an event's time
  gossip::Timer between(io_, milliseconds(75));   // neither
  std::optional<Clock::time_point> fired_on_step, fired_at_event, fired_between;
  on_step.async_wait([&](const std::error_code&) { fired_on_step = Clock::now(); });
  at_event.async_wait([&](const std::error_code&) { fired_at_event = Clock::now(); });
  between.async_wait([&](const std::error_code&) { fired_between = Clock::now(); });
  events_.At(kStart + milliseconds(57), [] {});
  while (time_.now() < kStart + milliseconds(100)) Step(time_, io_, events_, kStart + milliseconds(100), tick);
  EXPECT_EQ(fired_on_step, kStart + milliseconds(40));
  EXPECT_EQ(fired_at_event, kStart + milliseconds(57));
  ASSERT_TRUE(fired_between.has_value());
  EXPECT_GE(*fired_between, kStart + milliseconds(75));
  EXPECT_LE(*fired_between, kStart + milliseconds(75) + tick);
}

TEST_F(StepTest, MinutesOfVirtualTimeTakeNoRealTime) {
  // A timer every virtual second and an event every virtual minute, for 20 minutes in 100 ms ticks.
  const Clock::time_point end = kStart + std::chrono::minutes(20);
  gossip::Timer timer(io_);
  int fired = 0;
  std::function<void()> rearm = [&] {
    timer.expires_after(seconds(1));
    timer.async_wait([&](const std::error_code& ec) {
      if (ec) return;
      ++fired;
      rearm();
    });
  };
  rearm();
  int events = 0;
  std::function<void()> every_minute = [&] {
    ++events;
    events_.At(Clock::now() + std::chrono::minutes(1), every_minute);
  };
  events_.At(kStart, every_minute);
  const auto wall_start = std::chrono::steady_clock::now();
  while (time_.now() < end) Step(time_, io_, events_, end, milliseconds(100));
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  EXPECT_EQ(fired, 20 * 60);
  EXPECT_EQ(events, 20 + 1);
  EXPECT_LT(wall_s, 60) << "20 virtual minutes must not wait in real time";
}

}  // namespace
}  // namespace gl::node::sim

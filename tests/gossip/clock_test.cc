// gossip::Clock and VirtualTime: timers fire when the virtual time reaches them and never
// before, whatever the real time does; the in-memory network's link latency is virtual too;
// an engine detects a crashed peer within seconds of virtual time without waiting for them.
#include "gossip/clock.h"

#include <gtest/gtest.h>

#include "cluster_util.h"
#include "gossip/engine.h"
#include "gossip/wire/codec.h"
#include "gossip/wire/in_memory_transport.h"

namespace gl::gossip {
namespace {

using std::chrono::milliseconds;

TEST(ClockTest, RealUnlessVirtual) {
  const auto before = std::chrono::steady_clock::now();
  EXPECT_GE(Clock::now(), before);
  {
    VirtualTime time(Clock::time_point{} + std::chrono::hours(1));
    EXPECT_EQ(Clock::now(), Clock::time_point{} + std::chrono::hours(1));
    time.AdvanceTo(Clock::now() + milliseconds(5));
    EXPECT_EQ(Clock::now(), Clock::time_point{} + std::chrono::hours(1) + milliseconds(5));
    time.AdvanceTo(Clock::time_point{});  // never backwards
    EXPECT_EQ(Clock::now(), Clock::time_point{} + std::chrono::hours(1) + milliseconds(5));
  }
  EXPECT_GE(Clock::now(), before);
}

TEST(ClockTest, TimerFiresExactlyWhenVirtualTimeReachesIt) {
  VirtualTime time(Clock::time_point{} + std::chrono::hours(1));
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  Timer timer(io);
  timer.expires_after(std::chrono::seconds(30));  // far beyond this test's real run time
  bool fired = false;
  timer.async_wait([&](const std::error_code& ec) { fired = !ec; });
  time.AdvanceTo(timer.expiry() - milliseconds(1));
  io.poll();
  EXPECT_FALSE(fired);
  time.AdvanceTo(timer.expiry());
  io.poll();
  EXPECT_TRUE(fired);
}

TEST(ClockTest, LinkLatencyIsVirtual) {
  VirtualTime time(Clock::time_point{} + std::chrono::hours(1));
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  InMemoryNetwork network(io);
  network.SetLinks(LinkConditions{std::chrono::milliseconds(100), 0, 0}, 1);
  auto server = network.NewTransport("a:1");
  auto client = network.NewTransport("b:1");
  server->Listen([](const std::string&, Frame request, Transport::Respond respond) { respond(std::move(request)); });
  const Clock::time_point sent = Clock::now();
  std::optional<Clock::time_point> replied;
  client->Request("a:1", EncodeMessage(Ping{"b"}), milliseconds(1000),
                  [&](Status status, Frame) { if (status.ok()) replied = Clock::now(); });
  for (int step = 0; step < 300 && !replied; ++step) {
    time.AdvanceTo(Clock::now() + milliseconds(1));
    io.poll();
  }
  ASSERT_TRUE(replied.has_value());
  EXPECT_EQ(*replied - sent, milliseconds(200));  // there and back
}

TEST(ClockTest, EngineMarksCrashedPeerDeadWithinSecondsOfVirtualTime) {
  VirtualTime time(Clock::time_point{} + std::chrono::hours(1));
  const auto wall_start = std::chrono::steady_clock::now();
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  InMemoryNetwork network(io);
  MergingStore store_a(ModelSnapshot{"sig", std::vector<float>(8, 1.0f), 1, 1});
  MergingStore store_b(ModelSnapshot{"sig", std::vector<float>(8, 2.0f), 1, 1});
  auto transport_a = network.NewTransport("a:1");
  auto transport_b = network.NewTransport("b:1");
  Options options = DefaultLanOptions();  // 1 s probes, 3 failures: dead ~3 s after a crash
  options.node_id = "a";
  Engine a(io, options, *transport_a, store_a);
  options.node_id = "b";
  Engine b(io, options, *transport_b, store_b);
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  a.AddPeer("b:1", "static");
  const auto run_for = [&](milliseconds span) {
    const Clock::time_point end = Clock::now() + span;
    while (Clock::now() < end) {
      time.AdvanceTo(Clock::now() + milliseconds(10));
      io.poll();
    }
  };
  run_for(std::chrono::seconds(20));
  ASSERT_EQ(a.Peers().front().state, PeerState::kAlive);
  EXPECT_GT(a.Stats().exchanges_ok, 3u);  // gossip every 3 s of virtual time
  network.Crash("b:1");
  run_for(std::chrono::seconds(5));
  EXPECT_EQ(a.Peers().front().state, PeerState::kDead);
  EXPECT_LT(std::chrono::steady_clock::now() - wall_start, std::chrono::seconds(10));  // 25 s virtual, no waiting
  a.Stop();
  b.Stop();
}

}  // namespace
}  // namespace gl::gossip

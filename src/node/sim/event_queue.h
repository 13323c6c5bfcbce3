// The event scheduler of `gossip-learner simulate`: what runs when on the virtual clock.
//
// EventQueue: callbacks due at virtual times. RunDue(now) runs every event due at or before
// `now`, earliest first; events due at one time run in the order they were scheduled, and an
// event that a running event schedules for a time already due runs in this same call, after
// the ones scheduled before it.
//
// Step: one move of the virtual time and what is then due. It moves the time to the next
// event, but never past `end` and, with a `tick` > 0 (while engines run), never by more than
// `tick`, so an io_context timer fires at its virtual time when that is a step's time and at
// most `tick` late otherwise, never early. The time never moves backwards (an event scheduled
// in the past runs at the current time) and nothing waits in real time.
// Threading: one thread, the simulation's.
#pragma once

#include <asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "gossip/clock.h"

namespace gl::node::sim {

class EventQueue {
 public:
  void At(gossip::Clock::time_point at, std::function<void()> run);
  bool empty() const { return events_.empty(); }
  // The earliest event's time; time_point::max() when there is none.
  gossip::Clock::time_point next() const;
  // Runs the events due at or before `now` (see above); returns how many ran.
  std::size_t RunDue(gossip::Clock::time_point now);

 private:
  struct Event {
    gossip::Clock::time_point at;
    std::uint64_t seq;  // ties run in the order they were scheduled
    std::function<void()> run;
    bool operator>(const Event& other) const { return at != other.at ? at > other.at : seq > other.seq; }
  };
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  std::uint64_t next_seq_ = 0;
};

// Moves `time` to the earliest of events.next(), `end` and, if `tick` > 0, now + tick; then
// polls `io` (its timers due by then fire, messages are delivered) and runs the due events.
void Step(gossip::VirtualTime& time, asio::io_context& io, EventQueue& events, gossip::Clock::time_point end,
          gossip::Clock::duration tick);

}  // namespace gl::node::sim

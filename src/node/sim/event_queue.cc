#include "node/sim/event_queue.h"

#include <algorithm>

namespace gl::node::sim {

using gossip::Clock;

void EventQueue::At(Clock::time_point at, std::function<void()> run) {
  events_.push(Event{at, next_seq_++, std::move(run)});
}

Clock::time_point EventQueue::next() const { return events_.empty() ? Clock::time_point::max() : events_.top().at; }

std::size_t EventQueue::RunDue(Clock::time_point now) {
  std::size_t ran = 0;
  while (!events_.empty() && events_.top().at <= now) {
    // Taken out before it runs: the event may schedule others, which reorders the heap.
    const Event event = events_.top();
    events_.pop();
    event.run();
    ++ran;
  }
  return ran;
}

void Step(gossip::VirtualTime& time, asio::io_context& io, EventQueue& events, Clock::time_point end,
          Clock::duration tick) {
  Clock::time_point next = std::min(events.next(), end);
  if (tick > Clock::duration::zero() && time.now() < Clock::time_point::max() - tick) {
    next = std::min(next, time.now() + tick);
  }
  time.AdvanceTo(next);
  io.poll();
  events.RunDue(time.now());
}

}  // namespace gl::node::sim

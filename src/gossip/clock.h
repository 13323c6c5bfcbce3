// gossip::Clock: the time of the gossip protocol (engine, transports, rounds). In a node it is
// std::chrono::steady_clock; while a VirtualTime exists (gossip-learner simulate) it is that
// virtual time, which only VirtualTime::AdvanceTo moves, so a whole cluster runs on one thread
// without waiting. Timer is the asio timer on this clock: in virtual mode its wait traits tell
// asio's reactor that the earliest timer is due now, so every poll() checks the timer queue
// against the virtual time (a real wait would be on the wrong clock).
//
// Cost in a node: one relaxed load of a process-wide flag per now(). Threading: the virtual
// time is process-wide; use it from one thread (the simulation's) and with no real node in
// the process.
#pragma once

#include <asio/basic_waitable_timer.hpp>
#include <atomic>
#include <chrono>

namespace gl::gossip {

class Clock {
 public:
  using duration = std::chrono::steady_clock::duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::steady_clock::time_point;  // so PeerTable and logs take it as is
  static constexpr bool is_steady = true;

  static time_point now() noexcept {
    return virtual_.load(std::memory_order_relaxed) ? virtual_now_ : std::chrono::steady_clock::now();
  }
  static bool IsVirtual() noexcept { return virtual_.load(std::memory_order_relaxed); }

 private:
  friend class VirtualTime;
  static inline std::atomic<bool> virtual_{false};
  static inline time_point virtual_now_{};
};

struct ClockWaitTraits {
  static Clock::duration to_wait_duration(const Clock::duration& d) {
    return Clock::IsVirtual() ? Clock::duration::zero() : d;
  }
  static Clock::duration to_wait_duration(const Clock::time_point& t) {
    if (Clock::IsVirtual()) return Clock::duration::zero();
    return asio::wait_traits<Clock>::to_wait_duration(t);
  }
};

using Timer = asio::basic_waitable_timer<Clock, ClockWaitTraits>;

// While alive, Clock::now() is a virtual time that starts at `start` and moves only by
// AdvanceTo. One at a time per process.
class VirtualTime {
 public:
  explicit VirtualTime(Clock::time_point start = Clock::time_point{}) {
    Clock::virtual_now_ = start;
    Clock::virtual_.store(true, std::memory_order_relaxed);
  }
  ~VirtualTime() { Clock::virtual_.store(false, std::memory_order_relaxed); }
  VirtualTime(const VirtualTime&) = delete;
  VirtualTime& operator=(const VirtualTime&) = delete;

  // Never moves backwards: an earlier `t` is ignored.
  void AdvanceTo(Clock::time_point t) {
    if (t > Clock::virtual_now_) Clock::virtual_now_ = t;
  }
  Clock::time_point now() const { return Clock::virtual_now_; }
};

}  // namespace gl::gossip

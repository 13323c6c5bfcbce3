// Admission control per remote host, for the transports: a token bucket of frames per second
// (a flooding address is throttled, everyone else is served) and a gate that lets through one
// log line per host and interval (a flood cannot flood the log either).
//
// Memory is bounded whatever remote hosts do: at most `max_hosts` entries each; when full,
// the idle entries are dropped first, then all of them. Not thread-safe: one owner thread
// (the transport's io_context thread).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace gl::gossip {

class HostRateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // `frames_per_second` tokens refill continuously up to `burst`; 0 frames_per_second = no limit.
  HostRateLimiter(double frames_per_second, double burst, std::size_t max_hosts = 4096);

  // True if `host` may send one more frame at `now` (and takes the token, or a prepaid one).
  bool Allow(const std::string& host, Clock::time_point now);
  // True if `host` may open one more connection at `now`: takes a token, which prepays the
  // first frame read on it (the next Allow for `host` is free). False: the transport drops
  // the connection at accept, before reading from it. At most `burst` prepaid tokens are
  // kept per host, so connections that never send a frame cannot save up a larger burst.
  bool AllowConnection(const std::string& host, Clock::time_point now);
  std::size_t tracked_hosts() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens = 0;
    double prepaid = 0;
    Clock::time_point refilled;
  };
  // `host`'s bucket, created full if new, refilled up to `now`.
  Bucket& Refilled(const std::string& host, Clock::time_point now);
  double rate_;
  double burst_;
  std::size_t max_hosts_;
  std::unordered_map<std::string, Bucket> buckets_;
};

class LogGate {
 public:
  explicit LogGate(std::chrono::milliseconds interval, std::size_t max_keys = 4096)
      : interval_(interval), max_keys_(max_keys) {}
  // True at most once per `interval` for each key; the caller logs only then. `suppressed`
  // receives how many calls for the key returned false since the last true.
  bool ShouldLog(const std::string& key, HostRateLimiter::Clock::time_point now, std::uint64_t& suppressed);

 private:
  struct Entry {
    HostRateLimiter::Clock::time_point last;
    std::uint64_t suppressed = 0;
  };
  std::chrono::milliseconds interval_;
  std::size_t max_keys_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace gl::gossip

// UploadBudget: an upload budget in kbit/s (1 kbit = 1000 bits) and the measure of what a
// node sent over the last minute.
//
// Pacing is a token bucket: tokens (bytes) accrue at the budget's rate up to a burst of
// kBurst of it (or one transfer, if larger), every byte the node sends spends them, replies
// to peers included, and a transfer may start only when the tokens cover it. Replies can
// drive the tokens negative; starts then wait until the rate has paid that back. So any
// minute carries at most a minute of the budget plus one burst plus one frame, as long as
// replies alone stay under the budget (they are never held back). Spreading starts evenly,
// rather than spending a whole minute's budget at once, is what keeps replies that come
// later inside the minute's budget.
//
// The owner hands the transport's running total of bytes sent to Observe() now and then
// (the engine: every gossip and probe tick); the bytes since the previous call count at
// that moment, so they are dated to within one tick. Time is passed in, so tests drive it.
// Plain value; not thread-safe (the engine's io thread).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

namespace gl::gossip {

class UploadBudget {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kWindow{60};  // of the measured rate
  static constexpr std::chrono::seconds kBurst{2};    // of the budget, sendable at once

  // `max_kbps` 0 = unlimited (MayStart is always true; the rate is still measured).
  explicit UploadBudget(double max_kbps);

  // Spends the bytes sent since the previous call; `total_bytes_sent` never decreases.
  void Observe(Clock::time_point now, std::uint64_t total_bytes_sent);
  // True if unlimited, or if the tokens at `now` cover a transfer of `bytes`.
  bool MayStart(Clock::time_point now, std::uint64_t bytes);
  // How long until MayStart(bytes) holds, if nothing else is sent meanwhile; zero if it does.
  Clock::duration WaitFor(Clock::time_point now, std::uint64_t bytes);
  // Spends the tokens of a transfer of `bytes` now, before the transport has sent it, so that
  // transfers queued together start one at a time; Observe() then does not charge those
  // bytes again.
  void Reserve(Clock::time_point now, std::uint64_t bytes);

  // Bytes observed within the kWindow up to `now`.
  std::uint64_t BytesInWindow(Clock::time_point now) const;
  // Those bytes per second over the window, or over the time since the first Observe if
  // shorter (at least one second); 0 before any.
  double BytesPerSecond(Clock::time_point now) const;
  double BytesPerSecondBudget() const { return bytes_per_s_; }  // 0 = unlimited

 private:
  struct Bucket {
    std::int64_t second = -1;  // since the clock's epoch
    std::uint64_t bytes = 0;
  };
  static std::int64_t SecondOf(Clock::time_point t);
  void Refill(Clock::time_point now);

  double bytes_per_s_;
  double capacity_;  // of the token bucket, bytes
  double tokens_;
  std::optional<Clock::time_point> refilled_;
  std::array<Bucket, kWindow.count()> buckets_{};  // bytes per second, indexed by second % kWindow
  std::uint64_t last_total_ = 0;
  std::uint64_t reserved_ = 0;  // bytes paid by Reserve() that Observe() has not seen yet
  std::optional<Clock::time_point> first_observed_;
};

}  // namespace gl::gossip

#include "gossip/upload_budget.h"

#include <algorithm>

namespace gl::gossip {
namespace {
constexpr double kBytesPerKbit = 1000.0 / 8.0;
}  // namespace

UploadBudget::UploadBudget(double max_kbps)
    : bytes_per_s_(max_kbps * kBytesPerKbit),
      capacity_(bytes_per_s_ * static_cast<double>(kBurst.count())),
      tokens_(capacity_) {}

std::int64_t UploadBudget::SecondOf(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

void UploadBudget::Refill(Clock::time_point now) {
  if (refilled_ && now > *refilled_) {
    tokens_ = std::min(capacity_, tokens_ + bytes_per_s_ * std::chrono::duration<double>(now - *refilled_).count());
  }
  if (!refilled_ || now > *refilled_) refilled_ = now;
}

void UploadBudget::Observe(Clock::time_point now, std::uint64_t total_bytes_sent) {
  if (!first_observed_) first_observed_ = now;
  const std::uint64_t sent = total_bytes_sent - std::min(total_bytes_sent, last_total_);
  last_total_ = std::max(last_total_, total_bytes_sent);
  Refill(now);
  const std::uint64_t prepaid = std::min(sent, reserved_);
  reserved_ -= prepaid;
  tokens_ -= static_cast<double>(sent - prepaid);
  const std::int64_t second = SecondOf(now);
  const std::int64_t slots = kWindow.count();
  Bucket& bucket = buckets_[static_cast<std::size_t>((second % slots + slots) % slots)];
  if (bucket.second != second) bucket = Bucket{second, 0};  // a slot last used a window or more ago
  bucket.bytes += sent;
}

bool UploadBudget::MayStart(Clock::time_point now, std::uint64_t bytes) {
  if (bytes_per_s_ <= 0) return true;
  // A transfer larger than the burst must still be possible: the bucket grows to hold one.
  capacity_ = std::max(capacity_, static_cast<double>(bytes));
  Refill(now);
  return tokens_ >= static_cast<double>(bytes);
}

UploadBudget::Clock::duration UploadBudget::WaitFor(Clock::time_point now, std::uint64_t bytes) {
  if (MayStart(now, bytes)) return Clock::duration::zero();
  const double seconds = (static_cast<double>(bytes) - tokens_) / bytes_per_s_;
  return std::chrono::ceil<Clock::duration>(std::chrono::duration<double>(seconds));
}

void UploadBudget::Reserve(Clock::time_point now, std::uint64_t bytes) {
  if (bytes_per_s_ <= 0) return;
  Refill(now);
  tokens_ -= static_cast<double>(bytes);
  reserved_ += bytes;
}

std::uint64_t UploadBudget::BytesInWindow(Clock::time_point now) const {
  const std::int64_t second = SecondOf(now);
  std::uint64_t bytes = 0;
  for (const Bucket& bucket : buckets_) {
    if (bucket.second > second - kWindow.count() && bucket.second <= second) bytes += bucket.bytes;
  }
  return bytes;
}

double UploadBudget::BytesPerSecond(Clock::time_point now) const {
  if (!first_observed_) return 0;
  const double observed_s = std::chrono::duration<double>(now - *first_observed_).count();
  const double span_s = std::clamp(observed_s, 1.0, static_cast<double>(kWindow.count()));
  return static_cast<double>(BytesInWindow(now)) / span_s;
}

}  // namespace gl::gossip

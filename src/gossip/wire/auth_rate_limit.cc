#include "gossip/wire/auth_rate_limit.h"

#include <algorithm>

namespace gl::gossip {

HostRateLimiter::HostRateLimiter(double frames_per_second, double burst, std::size_t max_hosts)
    : rate_(frames_per_second), burst_(std::max(burst, 1.0)), max_hosts_(std::max<std::size_t>(max_hosts, 1)) {}

HostRateLimiter::Bucket& HostRateLimiter::Refilled(const std::string& host, Clock::time_point now) {
  auto found = buckets_.find(host);
  if (found == buckets_.end()) {
    if (buckets_.size() >= max_hosts_) {
      // Buckets refilled to the brim carry no state worth keeping (a prepaid token lost
      // with one only makes its host pay again).
      std::erase_if(buckets_, [&](const auto& entry) {
        const double idle_s = std::chrono::duration<double>(now - entry.second.refilled).count();
        return entry.second.tokens + idle_s * rate_ >= burst_;
      });
      if (buckets_.size() >= max_hosts_) buckets_.clear();
    }
    found = buckets_.emplace(host, Bucket{burst_, 0, now}).first;
  }
  Bucket& bucket = found->second;
  const double elapsed_s = std::chrono::duration<double>(now - bucket.refilled).count();
  bucket.tokens = std::min(burst_, bucket.tokens + elapsed_s * rate_);
  bucket.refilled = now;
  return bucket;
}

bool HostRateLimiter::Allow(const std::string& host, Clock::time_point now) {
  if (rate_ <= 0) return true;
  Bucket& bucket = Refilled(host, now);
  if (bucket.prepaid >= 1) {
    bucket.prepaid -= 1;
    return true;
  }
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

bool HostRateLimiter::AllowConnection(const std::string& host, Clock::time_point now) {
  if (rate_ <= 0) return true;
  Bucket& bucket = Refilled(host, now);
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  bucket.prepaid = std::min(burst_, bucket.prepaid + 1);
  return true;
}

bool LogGate::ShouldLog(const std::string& key, HostRateLimiter::Clock::time_point now, std::uint64_t& suppressed) {
  auto found = entries_.find(key);
  if (found == entries_.end()) {
    if (entries_.size() >= max_keys_) entries_.clear();
    entries_.emplace(key, Entry{now, 0});
    suppressed = 0;
    return true;
  }
  Entry& entry = found->second;
  if (now - entry.last < interval_) {
    ++entry.suppressed;
    return false;
  }
  suppressed = entry.suppressed;
  entry = Entry{now, 0};
  return true;
}

}  // namespace gl::gossip

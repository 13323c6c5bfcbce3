// LatestPerSender<T>: the latest value from each of the last `capacity` distinct senders,
// least recently heard first. A sender's new value replaces its old one and becomes the
// newest; beyond `capacity` senders the least recently heard one is forgotten, so one sender
// sending often cannot fill the window alone. Header-only; not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <string>
#include <utility>

namespace gl::gossip {

template <typename T>
class LatestPerSender {
 public:
  using Entries = std::deque<std::pair<std::string, T>>;

  // REQUIRES: capacity >= 1.
  explicit LatestPerSender(std::size_t capacity) : capacity_(capacity) {}

  void Put(const std::string& sender, T value) {
    auto known = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e.first == sender; });
    if (known != entries_.end()) entries_.erase(known);
    entries_.emplace_back(sender, std::move(value));
    if (entries_.size() > capacity_) entries_.pop_front();
  }
  const Entries& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }
  void Clear() { entries_.clear(); }

 private:
  std::size_t capacity_;
  Entries entries_;
};

}  // namespace gl::gossip

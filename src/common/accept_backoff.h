// How long an accept loop pauses after accept() fails. Out of file descriptors, the
// listening socket stays readable and every retry fails at once: without a pause the loop
// spins a core and floods the log. The pause doubles from `first` up to `max` while the
// failures go on, and a successful accept resets it; each failure is logged (through GL_LOG,
// so rate-limited) with the pause. The caller waits on its own timer. Not thread-safe: one
// per accept loop.
#pragma once

#include <chrono>
#include <system_error>

namespace gl {

class AcceptBackoff {
 public:
  explicit AcceptBackoff(const char* component, std::chrono::milliseconds first = std::chrono::milliseconds(10),
                         std::chrono::milliseconds max = std::chrono::milliseconds(1000))
      : component_(component), first_(first), max_(max), next_(first) {}

  // Logs the failure and returns how long to wait before the next accept.
  std::chrono::milliseconds Failed(const std::error_code& error);
  void Succeeded() { next_ = first_; }

 private:
  const char* component_;
  std::chrono::milliseconds first_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds next_;
};

}  // namespace gl

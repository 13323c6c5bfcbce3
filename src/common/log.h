// Minimal thread-safe logging to stderr: one line per message, with a UTC timestamp,
// level and an optional component tag.  Usage:  GL_LOG(kWarn, "gossip") << "peer " << p;
// The line is written atomically when the statement ends.
//
// Bounded whatever triggers it: each GL_LOG statement (call site) writes at most
// `lines_per_site` lines per `window` (SetLogRateLimit; default 20 per 10 s). Lines beyond
// are not formatted, only counted, and the next line written from that site ends with
// "[K similar lines suppressed]". A message longer than kMaxLogMessageBytes is cut. So a
// peer that makes the node log the same thing in a loop, with strings of its choosing,
// costs the log a bounded number of bytes per second.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

namespace gl {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Messages below this level are discarded (default kInfo). Safe to call at any time.
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// A name printed in every line (e.g. the node id); empty by default.
void SetLogPrefix(const std::string& prefix);
// Lines each call site may write per window. Safe to call at any time.
void SetLogRateLimit(int lines_per_site, std::chrono::milliseconds window);

inline constexpr std::size_t kMaxLogMessageBytes = 2048;

class LogLine {
 public:
  LogLine(LogLevel level, const char* component, const char* file, int line);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  template <typename T>
  LogLine& operator<<(const T& v) {
    if (admitted_) stream_ << v;
    return *this;
  }

 private:
  LogLevel level_;
  const char* component_;
  bool admitted_ = false;           // false: over its site's rate, nothing is written
  std::uint64_t suppressed_ = 0;    // lines of this site suppressed before this one
  std::ostringstream stream_;
};

// Lets GL_LOG be one expression, so that it is safe inside an unbraced if/else.
struct LogVoidify {
  void operator&(const LogLine&) {}
};

}  // namespace gl

#define GL_LOG(level, component)                                \
  (::gl::LogLevel::level < ::gl::GetLogLevel())                 \
      ? (void)0                                                 \
      : ::gl::LogVoidify() & ::gl::LogLine(::gl::LogLevel::level, component, __FILE__, __LINE__)

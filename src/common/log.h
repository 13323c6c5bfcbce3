// Minimal thread-safe logging to stderr: one line per message, with a UTC timestamp,
// level and an optional component tag.  Usage:  GL_LOG(kWarn, "gossip") << "peer " << p;
// The line is written atomically when the statement ends.
#pragma once

#include <sstream>
#include <string>

namespace gl {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Messages below this level are discarded (default kInfo). Safe to call at any time.
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// A name printed in every line (e.g. the node id); empty by default.
void SetLogPrefix(const std::string& prefix);

class LogLine {
 public:
  LogLine(LogLevel level, const char* component) : level_(level), component_(component) {}
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  template <typename T>
  LogLine& operator<<(const T& v) {
    stream_ << v;
    return *this;
  }

 private:
  LogLevel level_;
  const char* component_;
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
      : ::gl::LogVoidify() & ::gl::LogLine(::gl::LogLevel::level, component)

#include "common/log.h"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <utility>

namespace gl {
namespace {
std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::mutex g_mutex;
// Guarded by g_mutex:
std::string g_prefix;
int g_lines_per_site = 20;
std::chrono::steady_clock::duration g_window = std::chrono::seconds(10);

// One call site's budget in the current window. Sites are the program's GL_LOG statements,
// so the map stays as small as the source.
struct SiteBudget {
  std::chrono::steady_clock::time_point window_start;
  int lines = 0;
  std::uint64_t suppressed = 0;
};
std::map<std::pair<const char*, int>, SiteBudget> g_sites;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarn: return "WARN";
    case LogLevel::kError: return "ERROR";
  }
  return "?";
}
}  // namespace

void SetLogLevel(LogLevel level) { g_level = level; }
LogLevel GetLogLevel() { return g_level; }
void SetLogPrefix(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_prefix = prefix;
}
void SetLogRateLimit(int lines_per_site, std::chrono::milliseconds window) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_lines_per_site = lines_per_site;
  g_window = window;
  g_sites.clear();
}

LogLine::LogLine(LogLevel level, const char* component, const char* file, int line)
    : level_(level), component_(component) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(g_mutex);
  SiteBudget& site = g_sites[{file, line}];
  if (site.lines == 0 || now - site.window_start >= g_window) {
    site.window_start = now;
    site.lines = 0;
  }
  if (site.lines >= g_lines_per_site) {
    ++site.suppressed;
    return;
  }
  ++site.lines;
  admitted_ = true;
  suppressed_ = std::exchange(site.suppressed, 0);
}

LogLine::~LogLine() {
  if (!admitted_) return;
  using namespace std::chrono;
  std::string message = stream_.str();
  if (message.size() > kMaxLogMessageBytes) {
    const std::size_t cut = message.size() - kMaxLogMessageBytes;
    message.resize(kMaxLogMessageBytes);
    message += "... [" + std::to_string(cut) + " bytes cut]";
  }
  if (suppressed_ > 0) message += " [" + std::to_string(suppressed_) + " similar lines suppressed]";
  const auto now = system_clock::now();
  const std::time_t secs = system_clock::to_time_t(now);
  const int millis = static_cast<int>(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fprintf(stderr, "%s.%03d %-5s %s%s[%s] %s\n", stamp, millis, LevelName(level_), g_prefix.c_str(),
               g_prefix.empty() ? "" : " ", component_, message.c_str());
  std::fflush(stderr);
}

}  // namespace gl

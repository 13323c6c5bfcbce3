#include "common/process_stats.h"

#include <time.h>

#include <fstream>
#include <string>

namespace gl {

long PeakRssKb() {
  std::ifstream status("/proc/self/status");
  std::string key;
  long value = -1;
  while (status >> key) {
    if (key == "VmHWM:") return status >> value ? value : -1;
    status.ignore(1 << 10, '\n');
  }
  return -1;
}

double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + t.tv_nsec * 1e-9;
}

double LoadAverage1() {
  std::ifstream loadavg("/proc/loadavg");
  double value = -1;
  return loadavg >> value ? value : -1;
}

}  // namespace gl

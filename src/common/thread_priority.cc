#include "common/thread_priority.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace gl {

Status LowerThisThreadPriority(int increment) {
  if (increment <= 0) return Status::Ok();
  const auto thread_id = static_cast<id_t>(::syscall(SYS_gettid));
  errno = 0;
  const int current = ::getpriority(PRIO_PROCESS, thread_id);
  if (current == -1 && errno != 0) return Status::IoError(std::string("getpriority: ") + std::strerror(errno));
  if (::setpriority(PRIO_PROCESS, thread_id, std::min(19, current + increment)) != 0) {
    return Status::IoError(std::string("setpriority: ") + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace gl

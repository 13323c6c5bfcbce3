#include "common/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace gl {
namespace {

// The pid the holder wrote, or "" when it has not written it yet (or wrote something else).
std::string HolderPid(int fd) {
  char text[32] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  if (n <= 0) return "";
  const std::string_view pid(text, static_cast<std::size_t>(n));
  const std::string_view digits = pid.substr(0, pid.find_first_not_of("0123456789"));
  return std::string(digits);
}

}  // namespace

Result<std::unique_ptr<DirLock>> DirLock::Acquire(const std::string& dir) {
  const std::string path = dir + "/lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError("cannot create " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::string pid = HolderPid(fd);
    ::close(fd);
    if (error != EWOULDBLOCK) return Status::IoError("cannot lock " + path + ": " + std::strerror(error));
    return Status::Unavailable(dir + " is in use by " + (pid.empty() ? "another process" : "process " + pid) +
                               " (it holds " + path + ")");
  }
  // Best effort: the lock holds without the pid; only a refused process's message is vaguer.
  const std::string pid = std::to_string(::getpid()) + "\n";
  [[maybe_unused]] const bool written =
      ::ftruncate(fd, 0) == 0 && ::pwrite(fd, pid.data(), pid.size(), 0) == static_cast<ssize_t>(pid.size());
  return std::unique_ptr<DirLock>(new DirLock(fd));
}

DirLock::~DirLock() { ::close(fd_); }

}  // namespace gl

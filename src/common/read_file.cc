#include "common/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gl {
namespace {

Status Errno(const std::string& path, const char* what) {
  return Status::IoError(path + ": " + what + ": " + std::strerror(errno));
}

// Closes the descriptor on every return path.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

}  // namespace

Result<std::string> ReadWholeFile(const std::string& path, std::uint64_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound(path + ": " + std::strerror(errno));
    return Errno(path, "cannot open");
  }
  const FdCloser closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0) return Errno(path, "cannot stat");
  if (S_ISDIR(info.st_mode)) return Status::IoError(path + ": is a folder, not a file");
  if (!S_ISREG(info.st_mode)) return Status::IoError(path + ": not a regular file");
  if (static_cast<std::uint64_t>(info.st_size) > max_bytes) {
    return Status::IoError(path + ": " + std::to_string(info.st_size) + " bytes, more than the " +
                           std::to_string(max_bytes) + " expected");
  }
  std::string bytes;
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno(path, "read failed");
    }
    if (bytes.size() + static_cast<std::uint64_t>(n) > max_bytes) {
      return Status::IoError(path + ": grew past " + std::to_string(max_bytes) + " bytes while being read");
    }
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  return bytes;
}

}  // namespace gl

#include "common/writable_path.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace gl {

Status CheckCanWriteFile(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("empty file name");
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status::InvalidArgument(path + " is a folder: give a file name (e.g. " +
                                   (std::filesystem::path(path) / "model.glm").string() + ")");
  }
  const std::string probe = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const std::string folder = std::filesystem::path(path).parent_path().string();
    return Status::IoError("cannot create a file in " + (folder.empty() ? std::string(".") : folder) + ": " +
                           std::strerror(errno));
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return Status::Ok();
}

}  // namespace gl

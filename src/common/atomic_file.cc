#include "common/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace gl {
namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

Status FsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return Status::IoError(Errno(path));
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok ? Status::Ok() : Status::IoError(Errno("fsync " + path));
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::IoError(Errno(tmp) + " (does the folder exist and is it writable?)");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return Status::IoError(Errno("writing " + tmp) + " (disk full?)");
  }
  if (Status s = FsyncPath(tmp, O_RDONLY); !s.ok()) return s;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status failed = Status::IoError(Errno("renaming " + tmp + " to " + path));
    ::unlink(tmp.c_str());
    return failed;
  }
  const std::string folder = std::filesystem::path(path).parent_path().string();
  return FsyncPath(folder.empty() ? "." : folder, O_RDONLY | O_DIRECTORY);
}

Result<int> RemoveLeftoverTemporaries(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  int removed = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->path().filename().string().find(".tmp.") == std::string::npos) continue;
    if (!fs::remove(it->path(), ec)) break;
    ++removed;
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::IoError("clearing temporary files in " + dir + ": " + ec.message());
  }
  return removed;
}

}  // namespace gl

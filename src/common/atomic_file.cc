#include "common/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace gl {
namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

Status FsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Status::IoError(Errno(path));
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok ? Status::Ok() : Status::IoError(Errno("fsync " + path));
}

Status FsyncFolderOf(const std::string& path) {
  const std::string folder = std::filesystem::path(path).parent_path().string();
  return FsyncPath(folder.empty() ? "." : folder, O_RDONLY | O_DIRECTORY);
}

// Writes and fsyncs `bytes` to `tmp`; on any failure the file is removed again.
Status WriteTemporary(const std::string& tmp, std::string_view bytes) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError(Errno(tmp) + " (does the folder exist and is it writable?)");
  Status status;
  for (std::size_t done = 0; done < bytes.size() && status.ok();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = Status::IoError(Errno("writing " + tmp) + " (disk full? free some space)");
    if (n > 0) done += static_cast<std::size_t>(n);
  }
  if (status.ok() && ::fsync(fd) != 0) status = Status::IoError(Errno("fsync " + tmp));
  if (::close(fd) != 0 && status.ok()) status = Status::IoError(Errno("closing " + tmp));
  if (!status.ok()) ::unlink(tmp.c_str());
  return status;
}

std::string TemporaryFor(const std::string& path) { return path + ".tmp." + std::to_string(::getpid()); }

Status RenameOrRemove(const std::string& tmp, const std::string& path) {
  if (::rename(tmp.c_str(), path.c_str()) == 0) return Status::Ok();
  Status failed = Status::IoError(Errno("renaming " + tmp + " to " + path));
  ::unlink(tmp.c_str());
  return failed;
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view bytes) {
  const std::string tmp = TemporaryFor(path);
  if (Status s = WriteTemporary(tmp, bytes); !s.ok()) return s;
  if (Status s = RenameOrRemove(tmp, path); !s.ok()) return s;
  return FsyncFolderOf(path);
}

Status WriteFileAtomicallyKeepingPrevious(const std::string& path, const std::string& previous_path,
                                          std::string_view bytes) {
  const std::string tmp = TemporaryFor(path);
  if (Status s = WriteTemporary(tmp, bytes); !s.ok()) return s;
  if (::rename(path.c_str(), previous_path.c_str()) != 0 && errno != ENOENT) {
    Status failed = Status::IoError(Errno("renaming " + path + " to " + previous_path) +
                                    " (is one of them a folder? move it away)");
    ::unlink(tmp.c_str());
    return failed;
  }
  if (Status s = RenameOrRemove(tmp, path); !s.ok()) return s;
  return FsyncFolderOf(path);
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

// DirLock: an exclusive lock on a folder for as long as the object lives, so that two
// processes never write the same files there: flock(2) on <dir>/lock, which also holds the
// holder's pid for the refusal message. The kernel drops the lock when the holder exits,
// however it exits (kill -9 included), so a stale lock file never blocks anyone. The file
// itself stays. Thread-safe: the object is immutable.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

namespace gl {

class DirLock {
 public:
  // Unavailable (naming the holder's pid when known) when another process holds it; IoError
  // when the lock file cannot be created. `dir` must exist.
  static Result<std::unique_ptr<DirLock>> Acquire(const std::string& dir);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace gl

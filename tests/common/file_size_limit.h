// FileSizeLimit: while one is alive, this process cannot grow any file beyond `bytes`
// (RLIMIT_FSIZE, with SIGXFSZ ignored so that write() fails with EFBIG): a full disk for the
// length of one test, on real files. Not thread-safe (process-wide).
#pragma once

#include <sys/resource.h>

#include <csignal>

namespace gl {

class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limited{bytes, saved_.rlim_max};
    ::setrlimit(RLIMIT_FSIZE, &limited);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, previous_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit saved_{};
  void (*previous_handler_)(int) = SIG_DFL;
};

}  // namespace gl

#include "common/accept_backoff.h"

#include <algorithm>

#include "common/log.h"

namespace gl {

std::chrono::milliseconds AcceptBackoff::Failed(const std::error_code& error) {
  const std::chrono::milliseconds pause = next_;
  next_ = std::min(max_, next_ * 2);
  GL_LOG(kWarn, component_) << "accept failed: " << error.message() << "; retrying in " << pause.count()
                            << " ms (raise the open-file limit, ulimit -n, if this is 'Too many open files')";
  return pause;
}

}  // namespace gl

#include "common/status.h"

namespace gl {

std::string Status::ToString() const {
  const char* name = "OK";
  switch (code_) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: name = "invalid argument"; break;
    case Code::kNotFound: name = "not found"; break;
    case Code::kCorruption: name = "corruption"; break;
    case Code::kIoError: name = "I/O error"; break;
    case Code::kUnavailable: name = "unavailable"; break;
    case Code::kTimeout: name = "timeout"; break;
    case Code::kRejected: name = "rejected"; break;
  }
  return std::string(name) + ": " + message_;
}

}  // namespace gl

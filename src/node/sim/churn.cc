#include "node/sim/churn.h"

#include <cstdlib>

namespace gl::node::sim {
namespace {

bool ParseNumber(const std::string& text, double& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

}  // namespace

Result<ShareAt> ParseShareAt(const std::string& text, const std::string& flag) {
  const std::size_t at = text.find('@');
  ShareAt parsed;
  if (at == std::string::npos || !ParseNumber(text.substr(0, at), parsed.share) ||
      !ParseNumber(text.substr(at + 1), parsed.at_s) || parsed.share <= 0 || parsed.share > 1 || parsed.at_s < 0) {
    return Status::InvalidArgument(flag + " '" + text + "': expected SHARE@SECONDS with SHARE in (0, 1] and "
                                   "SECONDS >= 0, e.g. " + flag + " 0.2@60");
  }
  return parsed;
}

Result<Window> ParseWindow(const std::string& text, const std::string& flag) {
  const std::size_t dash = text.find('-');
  Window parsed;
  if (dash == std::string::npos || !ParseNumber(text.substr(0, dash), parsed.from_s) ||
      !ParseNumber(text.substr(dash + 1), parsed.to_s) || parsed.from_s < 0 || parsed.to_s <= parsed.from_s) {
    return Status::InvalidArgument(flag + " '" + text + "': expected FROM-TO in seconds with FROM < TO, e.g. " + flag +
                                   " 60-120");
  }
  return parsed;
}

}  // namespace gl::node::sim

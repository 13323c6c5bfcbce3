#include "node/config.h"

#include "node/settings.h"

namespace gl::node {

std::string Config::StatusSocketPath() const {
  return status_socket.empty() ? state_dir + "/status.sock" : status_socket;
}

Status Config::Validate() const {
  auto name = [this](const std::string& key) {
    auto it = origins.find(key);
    return it == origins.end() ? key : it->second;
  };
  if (data.empty()) {
    return Status::InvalidArgument("no training data: pass --data PATH (a TSV shard or a folder of <Language>.txt)");
  }
  if (Status s = ValidateSettings(*this); !s.ok()) return s;
  if (min_learning_rate > learning_rate) {
    return Status::InvalidArgument(name("min_learning_rate") + ": must be at most " + name("learning_rate") +
                                   " (got " + std::to_string(min_learning_rate) + " > " +
                                   std::to_string(learning_rate) + ")");
  }
  if (token_reactivity > token_capacity) {
    return Status::InvalidArgument(name("token_reactivity") + ": must be at most " + name("token_capacity") +
                                   " (got " + std::to_string(token_reactivity) + " > " +
                                   std::to_string(token_capacity) + ")");
  }
  if (encrypt && key_file.empty()) {
    return Status::InvalidArgument(name("encrypt") + ": needs a cluster key (--key-file FILE, or key_file in the "
                                   "config file): frames are encrypted with it");
  }
  return Status::Ok();
}

}  // namespace gl::node

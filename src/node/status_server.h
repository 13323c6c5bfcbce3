// StatusServer: a Unix domain socket that answers every connection with one document
// (the node's status JSON) and closes it. Read-only: it never reads from the client,
// so no command can change the node's state through it.
//
// The socket file is created owner-only (0600), then opened to the owner's group if the
// process's umask leaves the group write (0660 under a service's UMask=0007), never to
// others. A stale socket file left by a killed node is replaced; a live one (another node
// answering on it) is an error.
// All work runs on the given io_context; `render` is called on that thread.
#pragma once

#include <asio.hpp>
#include <functional>
#include <string>

#include "common/status.h"

namespace gl::node {

class StatusServer {
 public:
  using Render = std::function<std::string()>;

  StatusServer(asio::io_context& io, std::string path, Render render);
  ~StatusServer();

  Status Start();
  void Stop();  // idempotent; removes the socket file

 private:
  void Accept();

  asio::local::stream_protocol::acceptor acceptor_;
  std::string path_;
  Render render_;
  bool started_ = false;
};

// Connects to a status socket and returns the whole document it sends.
Result<std::string> ReadStatus(const std::string& path);

}  // namespace gl::node

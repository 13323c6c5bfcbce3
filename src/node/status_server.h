// StatusServer: a Unix domain socket that answers every connection with one document
// (the node's status JSON) and closes it. Read-only: it never reads from the client,
// so no command can change the node's state through it.
//
// The socket file is created owner-only (0600), then opened to the owner's group if the
// process's umask leaves the group write (0660 under a service's UMask=0007), never to
// others. A stale socket file left by a killed node is replaced; a live one (another node
// answering on it) is an error.
// All work runs on the given io_context; `render` is called on that thread.
//
// Bounded: a client has `write_timeout` to take the whole document, then its connection is
// closed (one that never reads cannot pin the document in memory); at most kMaxStatusClients
// are served at once, later ones are closed unanswered; a failing accept (e.g. out of file
// descriptors) is retried with AcceptBackoff instead of at once.
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "common/accept_backoff.h"
#include "common/status.h"

namespace gl::node {

inline constexpr std::size_t kMaxStatusClients = 8;

class StatusServer {
 public:
  using Render = std::function<std::string()>;

  StatusServer(asio::io_context& io, std::string path, Render render,
               std::chrono::milliseconds write_timeout = std::chrono::seconds(5));
  ~StatusServer();

  Status Start();
  void Stop();  // idempotent; removes the socket file

 private:
  void Accept();
  void Serve(asio::local::stream_protocol::socket socket);

  asio::local::stream_protocol::acceptor acceptor_;
  asio::steady_timer accept_pause_;
  AcceptBackoff accept_backoff_{"status"};
  std::string path_;
  Render render_;
  std::chrono::milliseconds write_timeout_;
  std::shared_ptr<std::size_t> clients_ = std::make_shared<std::size_t>(0);  // being served now
  bool started_ = false;
};

// Connects to a status socket and returns the whole document it sends.
Result<std::string> ReadStatus(const std::string& path);

}  // namespace gl::node

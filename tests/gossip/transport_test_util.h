// Helpers for transport tests: run a call on the io thread and wait for its result; a raw
// TCP client socket that never hangs a test (receive timeout); a check that the server
// closed the connection.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <asio.hpp>
#include <chrono>
#include <future>
#include <string>

#include "common/host_port.h"
#include "gossip/wire/tcp_transport.h"

namespace gl::gossip::test_util {

// Runs `f` on `io`'s thread (which must be running) and returns its result.
template <class F>
auto RunOnIo(asio::io_context& io, F f) {
  std::packaged_task<decltype(f())()> task(std::move(f));
  auto result = task.get_future();
  asio::post(io, [&task] { task(); });
  return result.get();
}

// Connects to `host_port`, from the address `source_host` if given (another loopback
// address, e.g. "127.0.0.2", plays another machine); reads on the socket fail after
// `timeout` instead of blocking.
inline asio::ip::tcp::socket RawConnect(asio::io_context& io, const std::string& host_port,
                                        std::chrono::seconds timeout, const std::string& source_host = "") {
  asio::ip::tcp::socket socket(io);
  const HostPort address = ParseHostPort(host_port).value();
  if (!source_host.empty()) {
    socket.open(asio::ip::tcp::v4());
    socket.bind(asio::ip::tcp::endpoint(asio::ip::make_address(source_host), 0));
  }
  socket.connect(asio::ip::tcp::endpoint(asio::ip::make_address(address.host), address.port));
  timeval tv{static_cast<time_t>(timeout.count()), 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return socket;
}

// True if the server closes `socket` (EOF or reset) before the receive timeout.
inline bool ClosedByServer(asio::ip::tcp::socket& socket) {
  std::array<char, 256> buffer{};
  std::error_code ec;
  for (;;) {
    socket.read_some(asio::buffer(buffer), ec);
    if (ec) return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
}

}  // namespace gl::gossip::test_util

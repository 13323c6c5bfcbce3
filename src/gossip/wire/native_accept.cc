#include "gossip/wire/native_accept.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace gl::gossip::internal {

std::error_code AcceptNative(asio::ip::tcp::acceptor& acceptor, NativeConnection& accepted) {
  for (;;) {
    socklen_t length = static_cast<socklen_t>(accepted.peer.capacity());
    const int descriptor = ::accept4(acceptor.native_handle(), accepted.peer.data(), &length,
                                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (descriptor >= 0) {
      accepted.descriptor = descriptor;
      accepted.peer.resize(length);
      return {};
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return asio::error::would_block;
    switch (errno) {
      // A connection that failed while queued, or a network error pending on it (accept(2)).
      case ECONNABORTED: case EPROTO: case ENOPROTOOPT: case EHOSTDOWN: case ENONET:
      case EHOSTUNREACH: case EOPNOTSUPP: case ENETDOWN: case ENETUNREACH:
        return asio::error::connection_aborted;
    }
    return {errno, std::system_category()};
  }
}

void ResetNative(NativeConnection& connection) {
  const linger reset{1, 0};
  ::setsockopt(connection.descriptor, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  ::close(connection.descriptor);
  connection.descriptor = -1;
}

asio::ip::tcp::socket AdoptNative(asio::io_context& io, NativeConnection& connection, std::error_code& ec) {
  asio::ip::tcp::socket socket(io);
  socket.assign(connection.peer.protocol(), connection.descriptor, ec);
  if (ec) ::close(connection.descriptor);
  connection.descriptor = -1;
  return socket;
}

}  // namespace gl::gossip::internal

// Accepting inbound TCP connections below asio, so that a connection turned away costs the
// node only the kernel's accept and close: no asio socket, no epoll registration, no
// completion handler, no buffer. Internal to TcpTransport's accept loop, which waits on the
// listening socket with async_wait, then calls AcceptNative until it reports would_block.
//
// Contract: `acceptor` must be in non-blocking mode (native_non_blocking(true)). Each
// accepted connection is owned by the caller, who passes it to exactly one of AdoptNative
// or ResetNative. Threading: the acceptor's io_context thread. Linux/POSIX only.
#pragma once

#include <asio.hpp>
#include <system_error>

namespace gl::gossip::internal {

struct NativeConnection {
  int descriptor = -1;
  asio::ip::tcp::endpoint peer;
};

// Takes one connection off the listen queue of `acceptor` into `accepted`. Errors:
// would_block when the queue is empty; connection_aborted when a connection went away
// while queued (try the next); anything else (e.g. out of descriptors) from the kernel.
std::error_code AcceptNative(asio::ip::tcp::acceptor& acceptor, NativeConnection& accepted);

// Closes `connection` with a reset rather than the FIN handshake: no TIME_WAIT entry is
// left behind, and the kernel does the least work for it.
void ResetNative(NativeConnection& connection);

// Hands `connection` to an asio socket on `io`; on failure it is closed and the socket
// left closed, with the reason in `ec`.
asio::ip::tcp::socket AdoptNative(asio::io_context& io, NativeConnection& connection, std::error_code& ec);

}  // namespace gl::gossip::internal

// One TCP socket that moves whole frames, guarded by a watchdog deadline. Internal to
// TcpTransport (both the serving and the requesting side use it).
//
// Ownership: always held by std::shared_ptr; coroutines and callbacks that use it keep it
// alive, the watchdog only holds a weak_ptr. Threading: io_context thread only.
// Errors from ReadFrame/WriteFrame: Corruption = the peer sent a bad frame (header rejected,
// or the frame ended early); Timeout = the deadline passed; Unavailable = the peer closed
// cleanly between frames; IoError = anything else (reset, shutdown).
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/status.h"
#include "gossip/wire/codec.h"
#include "gossip/wire/frame_format.h"
#include "gossip/wire/transport.h"

namespace gl::gossip::internal {

// Sees a frame as ReadFrame reads it: the header once it is parsed, then each piece of the
// body (piece_bytes() long, the last one shorter) as soon as it has arrived, in place in the
// frame that ReadFrame then returns. A frame that fails to arrive whole is returned as an error
// whatever the observer saw.
class FrameReadObserver {
 public:
  virtual std::size_t piece_bytes() const = 0;  // > 0
  virtual void OnHeader(const FrameHeader& header) = 0;
  virtual void OnBodyPiece(std::span<std::uint8_t> piece) = 0;

 protected:
  ~FrameReadObserver() = default;
};

class TcpConnection : public std::enable_shared_from_this<TcpConnection> {
 public:
  explicit TcpConnection(asio::ip::tcp::socket socket);
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  asio::ip::tcp::socket& socket() { return socket_; }
  // "host:port" of the other end, or "?" when unknown; fixed once connected.
  const std::string& remote() const { return remote_; }
  // The other end's IP address (unspecified when unknown), for per-host limits.
  const asio::ip::address& remote_address() const { return remote_address_; }
  void UpdateRemote();

  // The socket is closed if the current operation has not finished `timeout` from now.
  // Each call replaces the previous deadline.
  void SetDeadline(std::chrono::milliseconds timeout);
  bool timed_out() const { return timed_out_; }

  // Reads one frame whose body is at most `max_body_bytes`; counts bytes into `stats`. With an
  // `observer`, the body is read in its pieces and each is shown to it as it arrives.
  asio::awaitable<Result<Frame>> ReadFrame(std::uint32_t max_body_bytes, TransportStats& stats,
                                           FrameReadObserver* observer = nullptr);
  asio::awaitable<Status> WriteFrame(const Frame& frame, TransportStats& stats);
  // Closes the socket and stops the watchdog. Idempotent.
  void Close();
  // As Close, but with a reset instead of the FIN handshake, for a connection dropped for
  // what its peer sent: one packet, no TIME_WAIT entry; data not yet delivered is discarded.
  void Abort();

 private:
  void OnWatchdog();
  Status IoFailure(const std::error_code& ec, const char* while_doing) const;

  asio::ip::tcp::socket socket_;
  asio::steady_timer watchdog_;
  bool timed_out_ = false;
  std::string remote_ = "?";
  asio::ip::address remote_address_;
};

// "host:port" for an endpoint, with IPv6 hosts in brackets.
std::string FormatEndpoint(const asio::ip::tcp::endpoint& endpoint);

}  // namespace gl::gossip::internal

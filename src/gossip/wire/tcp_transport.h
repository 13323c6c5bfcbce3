// Transport over TCP with standalone Asio: one connection per request (connect, write the
// request frame, read the reply frame, close); served connections may carry several requests.
//
// Defences: a frame header is validated before its body is allocated (body <= max_frame_bytes);
// every read and write has a deadline, a new connection's first frame a short one
// (first_frame_timeout); at most max_inbound_connections are served at once, at most
// max_connections_per_host of them from one remote host.
// A malformed, truncated, oversized or wrong-version frame closes that connection with a
// WARN line naming the remote address (at most one per host and 10 s); everything else
// carries on. With a cluster key, every connection starts with the AuthNonce exchange and
// every later frame is sealed and checked (auth.h), both in kCipherChunkBytes chunks that
// overlap the transfer; a frame that fails is dropped before its body is parsed, its
// connection closed and counted per remote host. Each remote host may send at most
// max_frames_per_second frames (token bucket; a connection takes its first frame's token as
// it is accepted); beyond, its connections are closed with a reset, new ones as they are
// accepted (native_accept.h), before any handshake or read.
// Threading: as Transport (io_context thread only). Ownership: the object must outlive the
// calls made on it, but coroutines still in flight keep the shared state they use alive, so
// destroying it (after Shutdown, which the destructor also does) is always safe.
#pragma once

#include <asio.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "gossip/wire/auth.h"
#include "gossip/wire/transport.h"

namespace gl::gossip {

// Keyed frames are sealed and sent, and received and opened, in chunks of this size, so that
// the cipher works on one chunk while the next is on the wire (a model frame: ~5 chunks).
inline constexpr std::size_t kCipherChunkBytes = 64 << 10;
static_assert(kCipherChunkBytes % kCipherBlockBytes == 0);

struct TcpOptions {
  // Largest body accepted in a request or a reply, in bytes.
  std::uint32_t max_frame_bytes = 4u << 20;
  // Inbound connections served at once; further ones are closed on accept.
  std::size_t max_inbound_connections = 32;
  // Deadline for each read and write on a served connection, and for the handler's reply
  // unless the handler extends it (Respond::ExpectReplyWithin).
  std::chrono::milliseconds io_timeout{5000};
  // Shared secret of the cluster; none = run open.
  std::optional<ClusterKey> cluster_key = std::nullopt;
  // With a cluster key: encrypt frames, and accept only encrypted ones.
  bool encrypt = false;
  // Frames each remote host may send per second; 0 = no limit.
  double max_frames_per_second = 200;
  // Of max_inbound_connections, at most this many from one remote host.
  std::size_t max_connections_per_host = 8;
  // Deadline for a served connection's first complete frame (the AuthNonce on a keyed
  // connection, else the first request), when shorter than io_timeout: a connection that
  // holds a slot without sending loses it soon.
  std::chrono::milliseconds first_frame_timeout{2000};
};

struct SecurityStats {
  std::map<std::string, std::uint64_t> auth_failures;  // per remote host: failed handshakes or tags
  std::uint64_t frames_throttled = 0;                  // connections closed by the frame rate limit
};

class TcpTransport final : public Transport {
 public:
  // Binds and listens on `listen_host_port` ("0.0.0.0:7070", "127.0.0.1:0", "[::]:0"): a
  // numeric host, read as common/host_port.h reads every address (Request's `to` too).
  // IoError if it cannot, InvalidArgument if the address does not parse.
  static Result<std::unique_ptr<TcpTransport>> Create(asio::io_context& io, const std::string& listen_host_port,
                                                      const TcpOptions& options);
  ~TcpTransport() override;
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  std::string LocalAddress() const override;
  void Listen(RequestHandler handler) override;
  void Request(const std::string& to, Frame request, std::chrono::milliseconds timeout,
               ReplyHandler on_reply) override;
  TransportStats Stats() const override;
  SecurityStats Security() const;
  void Shutdown() override;

  struct State;  // shared with the connection coroutines; defined in tcp_transport.cc

 private:
  explicit TcpTransport(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace gl::gossip

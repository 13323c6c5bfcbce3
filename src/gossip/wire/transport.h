// The request/response seam between the gossip engine and the network. TcpTransport is the
// real one; InMemoryNetwork hands out transports that run whole clusters in one process.
//
// Threading: every method is called on the transport's io_context thread, and every callback
// (RequestHandler, Respond, ReplyHandler) runs on that thread too. Callbacks never run inside
// the call that registered them.
// Delivery: a ReplyHandler is called exactly once (reply, error, timeout, or Shutdown); a
// Respond may be called at most once (later, too); dropping it uncalled ends the request
// like a closed connection.
// Deadlines: the requester's `timeout` bounds the whole request. The serving side waits for
// its handler's reply as long as its own I/O deadline, unless the handler says its reply takes
// longer (Respond::ExpectReplyWithin): what a message means, and so how long its answer
// takes, is the caller's to know, never the transport's.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "common/status.h"
#include "gossip/wire/frame_format.h"

namespace gl::gossip {

struct TransportStats {
  std::uint64_t bytes_sent = 0;          // headers + bodies, both directions of every exchange
  std::uint64_t bytes_received = 0;
  std::uint64_t frames_rejected = 0;     // malformed, oversized, truncated or wrong-version frames
  std::uint64_t connections = 0;         // inbound connections accepted so far
  std::uint64_t connections_refused = 0; // inbound connections closed at once: over the limit
};

// The serving side's handle on one request: sends its reply, and may first extend how long
// the transport waits for that reply.
class Respond {
 public:
  using Send = std::function<void(Frame reply)>;
  using Extend = std::function<void(std::chrono::milliseconds timeout)>;

  Respond() = default;
  // `extend` may be empty: a transport without a serving-side deadline ignores extensions.
  explicit Respond(Send send, Extend extend = nullptr) : send_(std::move(send)), extend_(std::move(extend)) {}

  // Sends the reply. A reply of type kError ends the connection after it.
  void operator()(Frame reply) const { send_(std::move(reply)); }
  // The reply will come within `timeout` from now (e.g. only after local training): the
  // transport keeps the request open that long instead of its own I/O deadline. Call it
  // before replying; the requester's own timeout still bounds what it waits.
  void ExpectReplyWithin(std::chrono::milliseconds timeout) const {
    if (extend_) extend_(timeout);
  }

 private:
  Send send_;
  Extend extend_;
};

class Transport {
 public:
  using Respond = gossip::Respond;
  // `from` is the requester's address as seen by this transport (not its listen address).
  using RequestHandler = std::function<void(const std::string& from, Frame request, Respond respond)>;
  // OK with the reply, or Unavailable (no route, refused, closed), Timeout, Corruption.
  using ReplyHandler = std::function<void(Status status, Frame reply)>;

  virtual ~Transport() = default;

  // "host:port" actually bound (a requested port 0 is replaced by the real port).
  virtual std::string LocalAddress() const = 0;
  // Starts serving requests with `handler`. Call once.
  virtual void Listen(RequestHandler handler) = 0;
  // Sends `request` to `to` ("host:port") and delivers the reply, all within `timeout`.
  virtual void Request(const std::string& to, Frame request, std::chrono::milliseconds timeout,
                       ReplyHandler on_reply) = 0;
  virtual TransportStats Stats() const = 0;
  // Stops listening, closes connections and fails requests in flight. Idempotent.
  virtual void Shutdown() = 0;
};

}  // namespace gl::gossip

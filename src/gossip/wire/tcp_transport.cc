#include "gossip/wire/tcp_transport.h"

#include <algorithm>
#include <array>
#include <exception>
#include <span>
#include <utility>
#include <vector>

#include "common/accept_backoff.h"
#include "common/capped_count.h"
#include "common/host_port.h"
#include "common/log.h"
#include "gossip/wire/auth_rate_limit.h"
#include "gossip/wire/native_accept.h"
#include "gossip/wire/tcp_connection.h"

namespace gl::gossip {

using asio::ip::tcp;
using internal::TcpConnection;

struct TcpTransport::State {
  State(asio::io_context& io_context, const TcpOptions& tcp_options)
      : io(io_context), acceptor(io_context), options(tcp_options) {}
  asio::io_context& io;
  tcp::acceptor acceptor;
  TcpOptions options;
  RequestHandler handler;
  TransportStats stats;
  SecurityStats security;
  HostRateLimiter limiter{options.max_frames_per_second, 2 * options.max_frames_per_second};
  LogGate log_gate{std::chrono::seconds(10)};
  std::string local_address;
  bool stopped = false;
  std::vector<std::weak_ptr<TcpConnection>> inbound;   // served connections, for the limit
  std::vector<std::weak_ptr<TcpConnection>> outbound;  // requests in flight, for Shutdown
};

namespace {

using StatePtr = std::shared_ptr<TcpTransport::State>;
using ConnectionPtr = std::shared_ptr<TcpConnection>;
using SessionPtr = std::shared_ptr<AuthSession>;  // null on connections of a node running open
constexpr const char* kLog = "gossip.tcp";
// Remote hosts tracked one by one in SecurityStats::auth_failures; the rest are summed.
constexpr std::size_t kMaxTrackedHosts = 1024;
// Largest body read where an AuthNonce is expected: room for an Error saying why not.
constexpr std::uint32_t kMaxNonceFrameBody = 1024;
// Connections accepted in a row before the accept loop lets other work on the io thread run.
constexpr int kAcceptBatch = 32;

auto Await(std::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

// Forgets connections that are gone and returns how many are left.
std::size_t Prune(std::vector<std::weak_ptr<TcpConnection>>& connections) {
  std::erase_if(connections, [](const auto& weak) { return weak.expired(); });
  return connections.size();
}

// Runs a coroutine; an exception escaping it (only bad_alloc is possible) is logged, not rethrown.
void Spawn(asio::io_context& io, asio::awaitable<void> task) {
  asio::co_spawn(io, std::move(task), [](std::exception_ptr failure) {
    if (!failure) return;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      GL_LOG(kError, kLog) << "connection task failed: " << e.what();
    }
  });
}

// A numeric address as one endpoint; InvalidArgument for a name.
Result<tcp::endpoint> NumericEndpoint(const HostPort& address) {
  std::error_code ec;
  const asio::ip::address ip = asio::ip::make_address(address.host, ec);
  if (ec) return Status::InvalidArgument("not a numeric address: '" + address.host + "'");
  return tcp::endpoint(ip, address.port);
}

// Numeric addresses directly; names through the system resolver.
asio::awaitable<Result<std::vector<tcp::endpoint>>> Resolve(asio::io_context& io, const std::string& host_port) {
  Result<HostPort> address = ParseHostPort(host_port);
  if (!address.ok()) co_return address.status();
  if (Result<tcp::endpoint> numeric = NumericEndpoint(*address); numeric.ok()) {
    co_return std::vector<tcp::endpoint>{*numeric};
  }
  tcp::resolver resolver(io);
  std::error_code ec;
  const auto results = co_await resolver.async_resolve(address->host, std::to_string(address->port), Await(ec));
  if (ec) co_return Status::Unavailable("cannot resolve '" + host_port + "': " + ec.message());
  std::vector<tcp::endpoint> endpoints;
  for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  co_return endpoints;
}

// Logs `what` about `remote` at most once per kind, host and 10 s.
void WarnGated(TcpTransport::State& state, const std::string& kind, const std::string& remote,
               const std::string& what) {
  std::uint64_t suppressed = 0;
  if (!state.log_gate.ShouldLog(kind + HostOf(remote), std::chrono::steady_clock::now(), suppressed)) return;
  GL_LOG(kWarn, kLog) << what
                      << (suppressed > 0 ? " (+" + std::to_string(suppressed) + " like it not logged)" : "");
}

// Counts and logs a frame that failed: Corruption = malformed, Rejected = authentication.
void NoteBadFrame(TcpTransport::State& state, const std::string& remote, const Status& status,
                  const std::string& context) {
  if (status.code() == Status::Code::kRejected) {
    CountCapped(state.security.auth_failures, HostOf(remote), kMaxTrackedHosts);
  } else if (status.code() == Status::Code::kCorruption) {
    ++state.stats.frames_rejected;
  } else {
    return;
  }
  WarnGated(state, "bad frame ", remote, context + remote + ": " + status.message());
}

// Closes a served connection whose read failed with `read`: with a reset if its peer sent a
// bad frame (Corruption, Rejected), gracefully otherwise (a clean close, a timeout).
void CloseAfterRead(TcpConnection& connection, const Status& read) {
  const Status::Code code = read.code();
  if (code == Status::Code::kCorruption || code == Status::Code::kRejected) {
    connection.Abort();
  } else {
    connection.Close();
  }
}

// Takes a token for a frame that arrived, well-formed or not (`read` is how reading it
// ended; a clean close or a timeout is no frame). False, with the connection closed, if the
// connection's host is over its frame rate.
bool Admit(TcpTransport::State& state, TcpConnection& connection, const Status& read) {
  const Status::Code code = read.code();
  if (code != Status::Code::kOk && code != Status::Code::kCorruption && code != Status::Code::kRejected) return true;
  if (state.limiter.Allow(HostOf(connection.remote()), std::chrono::steady_clock::now())) return true;
  ++state.security.frames_throttled;
  WarnGated(state, "throttled ", connection.remote(),
            "throttling " + connection.remote() + ": its host sends more than " +
                std::to_string(static_cast<int>(state.options.max_frames_per_second)) + " frames/s");
  connection.Abort();
  return false;
}

// The AuthNonce exchange that opens a keyed connection (the client's nonce goes first).
asio::awaitable<Result<SessionPtr>> Handshake(TcpTransport::State& state, TcpConnection& connection,
                                              AuthRole role) {
  auto session = std::make_shared<AuthSession>(*state.options.cluster_key, role, state.options.encrypt);
  if (role == AuthRole::kClient) {
    if (Status s = co_await connection.WriteFrame(session->NonceFrame(), state.stats); !s.ok()) co_return s;
  }
  Result<Frame> nonce = co_await connection.ReadFrame(kMaxNonceFrameBody, state.stats);
  if (!nonce.ok()) co_return nonce.status();
  if (Status s = session->AcceptPeerNonce(*nonce); !s.ok()) co_return s;
  if (role == AuthRole::kServer) {
    if (Status s = co_await connection.WriteFrame(session->NonceFrame(), state.stats); !s.ok()) co_return s;
  }
  co_return session;
}

// Hands a keyed frame to its session piece by piece as it arrives, so that the body is checked
// (and decrypted) while the rest of it is on the way; only the last piece and the tag remain
// once the last byte is in.
class OpenAsItArrives final : public internal::FrameReadObserver {
 public:
  explicit OpenAsItArrives(AuthSession& session) : session_(session) {}
  std::size_t piece_bytes() const override { return kCipherChunkBytes; }
  void OnHeader(const FrameHeader& header) override { session_.BeginOpen(header); }
  void OnBodyPiece(std::span<std::uint8_t> piece) override { session_.OpenPiece(piece); }

 private:
  AuthSession& session_;
};

// One frame; on a keyed connection its tag is checked (Rejected if wrong) and stripped, and
// its body decrypted if encrypted.
asio::awaitable<Result<Frame>> Receive(TcpTransport::State& state, TcpConnection& connection,
                                       AuthSession* session) {
  if (session == nullptr) co_return co_await connection.ReadFrame(state.options.max_frame_bytes, state.stats);
  OpenAsItArrives opener(*session);
  Result<Frame> frame =
      co_await connection.ReadFrame(state.options.max_frame_bytes + kAuthTagBytes, state.stats, &opener);
  if (!frame.ok()) co_return frame;
  co_return session->FinishOpen(std::move(frame).value());
}

// One frame; sealed on a keyed connection, chunk by chunk: each chunk goes to the socket as
// soon as it is sealed, so sealing the next overlaps the transfer of the last.
asio::awaitable<Status> Send(TcpTransport::State& state, TcpConnection& connection, AuthSession* session,
                             Frame frame) {
  if (session == nullptr) co_return co_await connection.WriteFrame(frame, state.stats);
  FrameSealer sealer = session->BeginSeal(frame.type, frame.body.size());
  const std::span<std::uint8_t> body(frame.body);
  FrameTag tag{};
  std::error_code ec;
  for (std::size_t offset = 0;; offset += kCipherChunkBytes) {
    const std::span<std::uint8_t> chunk = body.subspan(offset, std::min(kCipherChunkBytes, body.size() - offset));
    sealer.SealChunk(chunk);
    const bool first = offset == 0, last = offset + chunk.size() == body.size();
    if (last) tag = sealer.Finish();
    // The header goes with the first chunk, the tag with the last.
    const std::array<asio::const_buffer, 3> buffers = {asio::buffer(sealer.header(), first ? kFrameHeaderSize : 0),
                                                       asio::buffer(chunk.data(), chunk.size()),
                                                       asio::buffer(tag, last ? kAuthTagBytes : 0)};
    state.stats.bytes_sent += co_await asio::async_write(connection.socket(), buffers, Await(ec));
    if (ec || last) break;
  }
  if (!ec) co_return Status::Ok();
  if (connection.timed_out()) co_return Status::Timeout("deadline passed while writing a frame");
  co_return Status::IoError("writing a frame: " + ec.message());
}

void ServeNext(StatePtr state, ConnectionPtr connection, SessionPtr session);

asio::awaitable<void> SendReply(StatePtr state, ConnectionPtr connection, SessionPtr session, Frame reply) {
  connection->SetDeadline(state->options.io_timeout);
  const bool last = reply.type == MessageType::kError;
  const Status written = co_await Send(*state, *connection, session.get(), std::move(reply));
  if (!written.ok() || last || state->stopped) {
    connection->Close();
    co_return;
  }
  ServeNext(std::move(state), std::move(connection), std::move(session));
}

// Serves one request, which must arrive whole within `deadline`.
asio::awaitable<void> ServeOne(StatePtr state, ConnectionPtr connection, SessionPtr session,
                               std::chrono::milliseconds deadline) {
  connection->SetDeadline(deadline);
  Result<Frame> request = co_await Receive(*state, *connection, session.get());
  if (!Admit(*state, *connection, request.status())) co_return;
  if (!request.ok()) {
    NoteBadFrame(*state, connection->remote(), request.status(), "closing connection from ");
    CloseAfterRead(*connection, request.status());
    co_return;
  }
  if (!state->handler || state->stopped) {
    connection->Close();
    co_return;
  }
  // The deadline keeps running while the handler prepares the reply, unless the handler
  // expects to take longer (Respond::ExpectReplyWithin); once it replied, writing the reply
  // has its own deadline.
  auto replied = std::make_shared<bool>(false);
  auto send = [state, connection, session, replied](Frame reply) mutable {
    if (state->stopped || *replied) return;
    *replied = true;
    asio::io_context& io = state->io;
    Spawn(io, SendReply(std::move(state), std::move(connection), std::move(session), std::move(reply)));
  };
  auto extend = [weak = std::weak_ptr<TcpConnection>(connection), replied](std::chrono::milliseconds timeout) {
    if (const ConnectionPtr alive = weak.lock(); alive != nullptr && !*replied) alive->SetDeadline(timeout);
  };
  Respond respond(std::move(send), std::move(extend));
  state->handler(connection->remote(), std::move(request).value(), std::move(respond));
}

void ServeNext(StatePtr state, ConnectionPtr connection, SessionPtr session) {
  asio::io_context& io = state->io;
  const std::chrono::milliseconds deadline = state->options.io_timeout;
  Spawn(io, ServeOne(std::move(state), std::move(connection), std::move(session), deadline));
}

// A new served connection: the AuthNonce exchange first if keyed, then its requests. The
// first frame, whichever it is, gets the short first-frame deadline.
asio::awaitable<void> ServeConnection(StatePtr state, ConnectionPtr connection) {
  const std::chrono::milliseconds first_deadline =
      std::min(state->options.first_frame_timeout, state->options.io_timeout);
  if (!state->options.cluster_key) {
    co_return co_await ServeOne(std::move(state), std::move(connection), nullptr, first_deadline);
  }
  connection->SetDeadline(first_deadline);
  Result<SessionPtr> handshake = co_await Handshake(*state, *connection, AuthRole::kServer);
  if (!Admit(*state, *connection, handshake.status())) co_return;
  if (!handshake.ok()) {
    NoteBadFrame(*state, connection->remote(), handshake.status(), "closing connection from ");
    CloseAfterRead(*connection, handshake.status());
    co_return;
  }
  ServeNext(std::move(state), std::move(connection), std::move(handshake).value());
}

// Served connections from `host` still open (after Prune).
std::size_t OpenFrom(const std::vector<std::weak_ptr<TcpConnection>>& connections, const asio::ip::address& host) {
  return static_cast<std::size_t>(std::count_if(connections.begin(), connections.end(), [&](const auto& weak) {
    const ConnectionPtr connection = weak.lock();
    return connection != nullptr && connection->remote_address() == host;
  }));
}

// A connection just taken off the listen queue. A throttled host's, or one beyond
// max_inbound_connections or its host's max_connections_per_host, is reset before anything
// is read or allocated for it.
void AdmitConnection(const StatePtr& state, internal::NativeConnection& incoming) {
  if (!state->limiter.AllowConnection(incoming.peer.address().to_string(), std::chrono::steady_clock::now())) {
    ++state->security.frames_throttled;  // a throttled host: closed before reading anything
    internal::ResetNative(incoming);
    return;
  }
  if (Prune(state->inbound) >= state->options.max_inbound_connections) {
    ++state->stats.connections_refused;
    GL_LOG(kDebug, kLog) << "refusing " << internal::FormatEndpoint(incoming.peer) << ": "
                         << state->options.max_inbound_connections << " connections already open";
    internal::ResetNative(incoming);
    return;
  }
  if (OpenFrom(state->inbound, incoming.peer.address()) >= state->options.max_connections_per_host) {
    ++state->stats.connections_refused;
    WarnGated(*state, "host full ", internal::FormatEndpoint(incoming.peer),
              "refusing " + internal::FormatEndpoint(incoming.peer) + ": its host already has " +
                  std::to_string(state->options.max_connections_per_host) +
                  " connections open (max_connections_per_host)");
    internal::ResetNative(incoming);
    return;
  }
  std::error_code ec;
  tcp::socket socket = internal::AdoptNative(state->io, incoming, ec);
  if (ec) {
    GL_LOG(kWarn, kLog) << "cannot serve a new connection: " << ec.message();
    return;
  }
  auto connection = std::make_shared<TcpConnection>(std::move(socket));
  ++state->stats.connections;
  connection->socket().set_option(tcp::no_delay(true), ec);
  state->inbound.push_back(connection);
  Spawn(state->io, ServeConnection(state, std::move(connection)));
}

// Takes every queued connection each time the listening socket becomes readable.
asio::awaitable<void> AcceptLoop(StatePtr state) {
  int accepted = 0;
  AcceptBackoff backoff(kLog);
  while (!state->stopped) {
    internal::NativeConnection incoming;
    std::error_code ec = internal::AcceptNative(state->acceptor, incoming);
    if (!ec) {
      backoff.Succeeded();
      AdmitConnection(state, incoming);
      // Under a flood the queue may never empty: let the io thread's other work run too.
      if (++accepted % kAcceptBatch == 0) co_await asio::post(state->io, asio::use_awaitable);
      continue;
    }
    if (ec == asio::error::connection_aborted) continue;
    if (ec == asio::error::would_block) co_await state->acceptor.async_wait(tcp::acceptor::wait_read, Await(ec));
    if (!ec || state->stopped) continue;
    asio::steady_timer pause(state->io, backoff.Failed(ec));
    co_await pause.async_wait(Await(ec));
  }
}

// One request: connect, write, read the reply, close. Reports through `on_reply` exactly once.
asio::awaitable<void> RunRequest(StatePtr state, std::string to, Frame request, std::chrono::milliseconds timeout,
                                 Transport::ReplyHandler on_reply) {
  auto connection = std::make_shared<TcpConnection>(tcp::socket(state->io));
  Prune(state->outbound);
  state->outbound.push_back(connection);
  connection->SetDeadline(timeout);

  auto fail = [&](const Status& status) {
    connection->Close();
    if (state->stopped) return on_reply(Status::Unavailable("transport shut down"), Frame{});
    if (connection->timed_out()) {
      return on_reply(Status::Timeout("no reply from " + to + " within " + std::to_string(timeout.count()) + " ms"),
                      Frame{});
    }
    on_reply(Status(status.code() == Status::Code::kIoError ? Status::Unavailable(to + ": " + status.message())
                                                           : status),
             Frame{});
  };

  Result<std::vector<tcp::endpoint>> endpoints = co_await Resolve(state->io, to);
  if (!endpoints.ok()) co_return fail(endpoints.status());
  std::error_code ec = asio::error::host_not_found;
  for (const tcp::endpoint& endpoint : *endpoints) {
    if (connection->timed_out() || state->stopped) break;
    connection->socket().close(ec);
    co_await connection->socket().async_connect(endpoint, Await(ec));
    if (!ec) break;
  }
  if (ec) co_return fail(Status::IoError("connect: " + ec.message()));
  connection->UpdateRemote();
  connection->socket().set_option(tcp::no_delay(true), ec);

  SessionPtr session;
  if (state->options.cluster_key) {
    Result<SessionPtr> handshake = co_await Handshake(*state, *connection, AuthRole::kClient);
    if (!handshake.ok()) {
      NoteBadFrame(*state, to, handshake.status(), "cannot authenticate with ");
      co_return fail(handshake.status());
    }
    session = std::move(handshake).value();
  }
  const Status written = co_await Send(*state, *connection, session.get(), std::move(request));
  if (!written.ok()) co_return fail(written);
  Result<Frame> reply = co_await Receive(*state, *connection, session.get());
  if (!reply.ok() && session && reply.status().code() == Status::Code::kIoError) {
    // A keyed peer drops a connection whose first sealed frame fails its check: so it says
    // when the two keys (or encrypt settings) differ; this side sees only the reset.
    const Status auth = Status::Rejected(
        "authentication failed: the peer closed the connection on our first authenticated frame (" +
        reply.status().message() + "); check both nodes use the same --key-file, and --encrypt on both or neither");
    NoteBadFrame(*state, to, auth, "");
    co_return fail(auth);
  }
  if (!reply.ok()) {
    NoteBadFrame(*state, to, reply.status(), "bad reply from ");
    co_return fail(reply.status());
  }
  connection->Close();
  on_reply(Status::Ok(), std::move(reply).value());
}

}  // namespace

Result<std::unique_ptr<TcpTransport>> TcpTransport::Create(asio::io_context& io, const std::string& listen_host_port,
                                                           const TcpOptions& options) {
  Result<HostPort> address = ParseHostPort(listen_host_port, PortZero::kAllowed);
  if (!address.ok()) return address.status();
  Result<tcp::endpoint> numeric = NumericEndpoint(*address);
  if (!numeric.ok()) {
    return Status::InvalidArgument("listen address '" + listen_host_port + "': " + numeric.status().message());
  }
  auto state = std::make_shared<State>(io, options);
  const tcp::endpoint endpoint = *numeric;
  std::error_code ec;
  state->acceptor.open(endpoint.protocol(), ec);
  if (!ec) state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(endpoint, ec);
  if (!ec) state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) state->acceptor.native_non_blocking(true, ec);  // for AcceptNative
  if (ec) return Status::IoError("cannot listen on " + listen_host_port + ": " + ec.message());
  state->local_address = internal::FormatEndpoint(state->acceptor.local_endpoint(ec));
  return std::unique_ptr<TcpTransport>(new TcpTransport(std::move(state)));
}

TcpTransport::TcpTransport(std::shared_ptr<State> state) : state_(std::move(state)) {}

TcpTransport::~TcpTransport() { Shutdown(); }

std::string TcpTransport::LocalAddress() const { return state_->local_address; }

void TcpTransport::Listen(RequestHandler handler) {
  if (state_->stopped) return;
  state_->handler = std::move(handler);
  Spawn(state_->io, AcceptLoop(state_));
}

void TcpTransport::Request(const std::string& to, Frame request, std::chrono::milliseconds timeout,
                           ReplyHandler on_reply) {
  if (state_->stopped) {
    asio::post(state_->io, [on_reply = std::move(on_reply)] {
      on_reply(Status::Unavailable("transport shut down"), Frame{});
    });
    return;
  }
  Spawn(state_->io, RunRequest(state_, to, std::move(request), timeout, std::move(on_reply)));
}

TransportStats TcpTransport::Stats() const { return state_->stats; }

SecurityStats TcpTransport::Security() const { return state_->security; }

void TcpTransport::Shutdown() {
  if (state_->stopped) return;
  state_->stopped = true;
  std::error_code ignored;
  state_->acceptor.close(ignored);
  for (auto* connections : {&state_->inbound, &state_->outbound}) {
    for (const auto& weak : *connections) {
      if (auto connection = weak.lock()) connection->Close();
    }
    connections->clear();
  }
}

}  // namespace gl::gossip

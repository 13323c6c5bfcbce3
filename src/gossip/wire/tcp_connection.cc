#include "gossip/wire/tcp_connection.h"

#include <algorithm>
#include <array>
#include <utility>

namespace gl::gossip::internal {
namespace {
auto Await(std::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }
}  // namespace

std::string FormatEndpoint(const asio::ip::tcp::endpoint& endpoint) {
  const asio::ip::address address = endpoint.address();
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

TcpConnection::TcpConnection(asio::ip::tcp::socket socket)
    : socket_(std::move(socket)), watchdog_(socket_.get_executor()) {
  UpdateRemote();
}

void TcpConnection::UpdateRemote() {
  std::error_code ec;
  const auto endpoint = socket_.remote_endpoint(ec);
  if (ec) return;
  remote_ = FormatEndpoint(endpoint);
  remote_address_ = endpoint.address();
}

void TcpConnection::SetDeadline(std::chrono::milliseconds timeout) {
  watchdog_.expires_after(timeout);
  watchdog_.async_wait([weak = weak_from_this()](const std::error_code& ec) {
    if (ec) return;  // re-armed or closed
    if (auto self = weak.lock()) self->OnWatchdog();
  });
}

void TcpConnection::OnWatchdog() {
  // A re-arm may have raced with an expiry that was already queued: only a real expiry counts.
  if (watchdog_.expiry() > asio::steady_timer::clock_type::now()) return;
  timed_out_ = true;
  std::error_code ignored;
  socket_.close(ignored);
}

void TcpConnection::Close() {
  std::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  watchdog_.cancel();
}

void TcpConnection::Abort() {
  std::error_code ignored;
  socket_.set_option(asio::socket_base::linger(true, 0), ignored);
  socket_.close(ignored);
  watchdog_.cancel();
}

Status TcpConnection::IoFailure(const std::error_code& ec, const char* while_doing) const {
  if (timed_out_) return Status::Timeout(std::string("deadline passed while ") + while_doing);
  return Status::IoError(std::string(while_doing) + ": " + ec.message());
}

asio::awaitable<Result<Frame>> TcpConnection::ReadFrame(std::uint32_t max_body_bytes, TransportStats& stats,
                                                        FrameReadObserver* observer) {
  std::array<std::uint8_t, kFrameHeaderSize> header{};
  std::error_code ec;
  const std::size_t header_read = co_await asio::async_read(socket_, asio::buffer(header), Await(ec));
  stats.bytes_received += header_read;
  if (ec && header_read == 0) {
    if (ec == asio::error::eof) co_return Status::Unavailable("connection closed by peer");
    co_return IoFailure(ec, "waiting for a frame");
  }
  if (ec) co_return Status::Corruption("truncated header (" + std::to_string(header_read) + " bytes)");
  Result<FrameHeader> parsed = ParseHeader(header, max_body_bytes);
  if (!parsed.ok()) co_return parsed.status();

  Frame frame{parsed->type, std::vector<std::uint8_t>(parsed->body_length), parsed->flags};
  if (observer != nullptr) observer->OnHeader(*parsed);
  const std::span<std::uint8_t> body(frame.body);
  const std::size_t piece_bytes = observer != nullptr ? observer->piece_bytes() : body.size();
  for (std::size_t body_read = 0; body_read < body.size();) {
    const std::span<std::uint8_t> piece = body.subspan(body_read, std::min(piece_bytes, body.size() - body_read));
    const std::size_t piece_read =
        co_await asio::async_read(socket_, asio::buffer(piece.data(), piece.size()), Await(ec));
    stats.bytes_received += piece_read;
    body_read += piece_read;
    if (ec) {
      co_return Status::Corruption("truncated body: " + std::to_string(body_read) + " of " +
                                   std::to_string(parsed->body_length) + " bytes" +
                                   (timed_out_ ? " before the deadline" : ""));
    }
    if (observer != nullptr) observer->OnBodyPiece(piece);
  }
  co_return frame;
}

asio::awaitable<Status> TcpConnection::WriteFrame(const Frame& frame, TransportStats& stats) {
  const auto header = EncodeHeader(frame.type, static_cast<std::uint32_t>(frame.body.size()));
  const std::array<asio::const_buffer, 2> buffers = {asio::buffer(header), asio::buffer(frame.body)};
  std::error_code ec;
  const std::size_t written = co_await asio::async_write(socket_, buffers, Await(ec));
  stats.bytes_sent += written;
  if (ec) co_return IoFailure(ec, "writing a frame");
  co_return Status::Ok();
}

}  // namespace gl::gossip::internal

#include "node/status_server.h"

#include <sys/stat.h>

#include <filesystem>
#include <memory>

#include "common/log.h"

namespace gl::node {
namespace {
using Local = asio::local::stream_protocol;

// True if something answers on the socket at `path`.
bool SocketIsLive(const std::string& path) {
  asio::io_context io;
  Local::socket probe(io);
  asio::error_code ec;
  probe.connect(Local::endpoint(path), ec);
  return !ec;
}
}  // namespace

StatusServer::StatusServer(asio::io_context& io, std::string path, Render render)
    : acceptor_(io), path_(std::move(path)), render_(std::move(render)) {}

StatusServer::~StatusServer() { Stop(); }

Status StatusServer::Start() {
  std::error_code fs_ec;
  if (std::filesystem::exists(path_, fs_ec)) {
    if (SocketIsLive(path_)) {
      return Status::Unavailable("status socket " + path_ +
                                 " is in use by another running node; give this node its own --state-dir");
    }
    std::filesystem::remove(path_, fs_ec);
  }
  asio::error_code ec;
  acceptor_.open(Local(), ec);
  const mode_t old_mask = ::umask(077);  // the socket file is born 0600
  if (!ec) acceptor_.bind(Local::endpoint(path_), ec);
  ::umask(old_mask);
  // Connecting needs write permission: the group may connect only if the umask leaves it
  // write (a service's UMask=0007), others never.
  if (!ec) ::chmod(path_.c_str(), 0660 & ~old_mask);
  if (!ec) acceptor_.listen(16, ec);
  if (ec) return Status::IoError("cannot serve status on " + path_ + ": " + ec.message());
  started_ = true;
  Accept();
  return Status::Ok();
}

void StatusServer::Stop() {
  if (!started_) return;
  started_ = false;
  asio::error_code ec;
  acceptor_.close(ec);
  std::filesystem::remove(path_, ec);
}

void StatusServer::Accept() {
  acceptor_.async_accept([this](asio::error_code ec, Local::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted) GL_LOG(kWarn, "status") << "accept failed: " << ec.message();
      if (!acceptor_.is_open()) return;
    } else {
      auto peer = std::make_shared<Local::socket>(std::move(socket));
      auto body = std::make_shared<std::string>(render_() + "\n");
      asio::async_write(*peer, asio::buffer(*body), [peer, body](asio::error_code, std::size_t) {
        asio::error_code ignored;
        peer->shutdown(Local::socket::shutdown_both, ignored);
      });
    }
    if (acceptor_.is_open()) Accept();
  });
}

Result<std::string> ReadStatus(const std::string& path) {
  asio::io_context io;
  Local::socket socket(io);
  asio::error_code ec;
  socket.connect(Local::endpoint(path), ec);
  if (ec) {
    return Status::Unavailable("cannot connect to status socket " + path + ": " + ec.message() +
                               " (is the node running? pass --socket PATH or --state-dir DIR)");
  }
  std::string text;
  asio::read(socket, asio::dynamic_buffer(text), ec);
  if (ec && ec != asio::error::eof) return Status::IoError("reading " + path + ": " + ec.message());
  return text;
}

}  // namespace gl::node

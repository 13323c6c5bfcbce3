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

StatusServer::StatusServer(asio::io_context& io, std::string path, Render render,
                           std::chrono::milliseconds write_timeout)
    : acceptor_(io),
      accept_pause_(io),
      path_(std::move(path)),
      render_(std::move(render)),
      write_timeout_(write_timeout) {}

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
  accept_pause_.cancel();
  std::filesystem::remove(path_, ec);
}

void StatusServer::Accept() {
  acceptor_.async_accept([this](asio::error_code ec, Local::socket socket) {
    if (!acceptor_.is_open()) return;
    if (!ec) {
      accept_backoff_.Succeeded();
      Serve(std::move(socket));
      return Accept();
    }
    if (ec == asio::error::operation_aborted) return Accept();
    accept_pause_.expires_after(accept_backoff_.Failed(ec));
    accept_pause_.async_wait([this](asio::error_code wait_ec) {
      if (!wait_ec && acceptor_.is_open()) Accept();
    });
  });
}

void StatusServer::Serve(Local::socket socket) {
  if (*clients_ >= kMaxStatusClients) {
    GL_LOG(kWarn, "status") << "closing a status client unanswered: " << kMaxStatusClients
                            << " are still being served (clients that do not read?)";
    return;  // the socket closes as it goes out of scope
  }
  ++*clients_;
  struct Client {
    Client(Local::socket s, std::string text, std::shared_ptr<std::size_t> count)
        : socket(std::move(s)), deadline(socket.get_executor()), body(std::move(text)), clients(std::move(count)) {}
    ~Client() { --*clients; }
    Local::socket socket;
    asio::steady_timer deadline;
    std::string body;
    std::shared_ptr<std::size_t> clients;
  };
  auto client = std::make_shared<Client>(std::move(socket), render_() + "\n", clients_);
  client->deadline.expires_after(write_timeout_);
  client->deadline.async_wait([weak = std::weak_ptr<Client>(client)](asio::error_code ec) {
    if (ec) return;  // written in time
    if (auto late = weak.lock()) {
      asio::error_code ignored;
      late->socket.close(ignored);  // fails the pending write, which releases the client
    }
  });
  asio::async_write(client->socket, asio::buffer(client->body), [client](asio::error_code, std::size_t) {
    asio::error_code ignored;
    client->deadline.cancel();
    client->socket.shutdown(Local::socket::shutdown_both, ignored);
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

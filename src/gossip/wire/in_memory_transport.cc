#include "gossip/wire/in_memory_transport.h"

#include <utility>
#include <vector>

namespace gl::gossip {
namespace {

std::uint64_t WireBytes(const Frame& frame) { return kFrameHeaderSize + frame.body.size(); }

// A request waiting for its reply; completes exactly once (reply, no route, timeout, shutdown).
struct Pending {
  Pending(asio::io_context& io, Transport::ReplyHandler handler) : timer(io), on_reply(std::move(handler)) {}
  void Complete(Status status, Frame reply) {
    if (done) return;
    done = true;
    timer.cancel();
    on_reply(std::move(status), std::move(reply));
  }
  asio::steady_timer timer;
  Transport::ReplyHandler on_reply;
  bool done = false;
};

}  // namespace

class InMemoryTransport final : public Transport {
 public:
  InMemoryTransport(InMemoryNetwork& network, std::string address)
      : network_(network), address_(std::move(address)) {
    network_.transports_[address_] = this;
  }
  ~InMemoryTransport() override { Shutdown(); }

  std::string LocalAddress() const override { return address_; }
  void Listen(RequestHandler handler) override { handler_ = std::move(handler); }
  TransportStats Stats() const override { return stats_; }

  void Request(const std::string& to, Frame request, std::chrono::milliseconds timeout,
               ReplyHandler on_reply) override {
    auto pending = std::make_shared<Pending>(network_.io_, std::move(on_reply));
    std::erase_if(pending_, [](const auto& weak) { return weak.expired(); });
    pending_.push_back(pending);
    pending->timer.expires_after(timeout);
    pending->timer.async_wait([pending, to, timeout](const std::error_code& ec) {
      if (!ec) pending->Complete(Status::Timeout("no reply from " + to + " within " +
                                                 std::to_string(timeout.count()) + " ms"), Frame{});
    });
    if (stopped_) return Fail(pending, Status::Unavailable("transport shut down"));
    stats_.bytes_sent += WireBytes(request);
    asio::post(network_.io_, [this_network = &network_, from = address_, to, pending,
                              request = std::move(request)]() mutable {
      InMemoryTransport* target = this_network->Reachable(to);
      if (target == nullptr || this_network->Reachable(from) == nullptr || !target->handler_) {
        return pending->Complete(Status::Unavailable("no route to " + to), Frame{});
      }
      target->Serve(from, std::move(request), pending);
    });
  }

  void Shutdown() override {
    if (stopped_) return;
    stopped_ = true;
    handler_ = nullptr;
    network_.transports_.erase(address_);
    for (const auto& weak : pending_) {
      if (auto pending = weak.lock()) Fail(pending, Status::Unavailable("transport shut down"));
    }
    pending_.clear();
  }

 private:
  void Fail(const std::shared_ptr<Pending>& pending, Status status) {
    asio::post(network_.io_, [pending, status] { pending->Complete(status, Frame{}); });
  }

  // Runs the handler for a request from `from`; the reply travels back through the network.
  void Serve(const std::string& from, Frame request, const std::shared_ptr<Pending>& pending) {
    ++stats_.connections;
    stats_.bytes_received += WireBytes(request);
    auto respond = [this_network = &network_, from, to = address_, pending](Frame reply) {
      asio::post(this_network->io_, [this_network, from, to, pending, reply = std::move(reply)]() mutable {
        InMemoryTransport* responder = this_network->Reachable(to);
        InMemoryTransport* requester = this_network->Reachable(from);
        if (responder == nullptr || requester == nullptr || pending->done) return;
        responder->stats_.bytes_sent += WireBytes(reply);
        requester->stats_.bytes_received += WireBytes(reply);
        pending->Complete(Status::Ok(), std::move(reply));
      });
    };
    // No serving-side deadline here: an extension has nothing to extend.
    handler_(from, std::move(request), Respond(std::move(respond)));
  }

  InMemoryNetwork& network_;
  const std::string address_;
  RequestHandler handler_;
  TransportStats stats_;
  bool stopped_ = false;
  std::vector<std::weak_ptr<Pending>> pending_;
};

std::unique_ptr<Transport> InMemoryNetwork::NewTransport(const std::string& address) {
  return std::make_unique<InMemoryTransport>(*this, address);
}

void InMemoryNetwork::Crash(const std::string& address) { crashed_.insert(address); }
void InMemoryNetwork::Revive(const std::string& address) { crashed_.erase(address); }

InMemoryTransport* InMemoryNetwork::Reachable(const std::string& address) const {
  if (crashed_.contains(address)) return nullptr;
  const auto it = transports_.find(address);
  return it == transports_.end() ? nullptr : it->second;
}

}  // namespace gl::gossip

#include "gossip/wire/in_memory_transport.h"

#include <utility>
#include <vector>

#include "gossip/clock.h"

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
  Timer timer;
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
    const std::uint64_t bytes = WireBytes(request);
    stats_.bytes_sent += bytes;
    network_.Carry(bytes, [this_network = &network_, from = address_, to, pending,
                           request = std::move(request)]() mutable {
      InMemoryTransport* target = this_network->Reachable(to);
      if (target == nullptr || this_network->Reachable(from) == nullptr || !target->handler_ ||
          this_network->Partitioned(from, to)) {
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
      const std::uint64_t bytes = WireBytes(reply);
      if (InMemoryTransport* responder = this_network->Reachable(to)) responder->stats_.bytes_sent += bytes;
      this_network->Carry(bytes, [this_network, from, to, pending, bytes, reply = std::move(reply)]() mutable {
        InMemoryTransport* responder = this_network->Reachable(to);
        InMemoryTransport* requester = this_network->Reachable(from);
        if (responder == nullptr || requester == nullptr || pending->done || this_network->Partitioned(from, to)) {
          return;
        }
        requester->stats_.bytes_received += bytes;
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

void InMemoryNetwork::SetGroup(const std::string& address, int group) { groups_[address] = group; }

void InMemoryNetwork::SetLinks(LinkConditions links, std::uint64_t seed) {
  links_ = links;
  loss_rng_.seed(seed);
}

bool InMemoryNetwork::Partitioned(const std::string& a, const std::string& b) const {
  if (groups_.empty()) return false;
  const auto group = [this](const std::string& address) {
    const auto it = groups_.find(address);
    return it == groups_.end() ? 0 : it->second;
  };
  return group(a) != group(b);
}

void InMemoryNetwork::Carry(std::uint64_t bytes, std::function<void()> deliver) {
  if (links_.loss > 0 && std::uniform_real_distribution<double>(0, 1)(loss_rng_) < links_.loss) return;
  auto delay = std::chrono::duration_cast<Clock::duration>(links_.latency);
  if (links_.bytes_per_s > 0) {
    delay += std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(static_cast<double>(bytes) / links_.bytes_per_s));
  }
  if (delay <= Clock::duration::zero()) return asio::post(io_, std::move(deliver));
  auto timer = std::make_shared<Timer>(io_, delay);
  timer->async_wait([timer, deliver = std::move(deliver)](const std::error_code&) { deliver(); });
}

InMemoryTransport* InMemoryNetwork::Reachable(const std::string& address) const {
  if (crashed_.contains(address)) return nullptr;
  const auto it = transports_.find(address);
  return it == transports_.end() ? nullptr : it->second;
}

}  // namespace gl::gossip

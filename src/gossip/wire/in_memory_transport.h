// InMemoryNetwork: transports that reach each other by address inside one process, on one
// io_context, without sockets; used to run whole gossip clusters in tests and simulations.
//
// Frames are delivered as they are (no header on a wire), but bytes are counted as if they
// were (kFrameHeaderSize + body). An unknown, shut-down or crashed address answers "no route"
// (Unavailable) like a refused connection, and so does an address in another partition
// group; a handler that never responds yields Timeout at the
// requester's deadline (the serving side has none, so Respond::ExpectReplyWithin changes nothing). By default a message arrives at the
// next turn of the io_context; SetLinks gives every link a latency, a bandwidth and a loss
// rate (a lost request or reply makes the request time out), timed on gossip::Clock.
// Ownership: the network must outlive its transports. Threading: io_context thread only.
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <random>
#include <string>

#include "gossip/wire/transport.h"

namespace gl::gossip {

class InMemoryTransport;

// What every link of an InMemoryNetwork does to a message (each direction on its own).
struct LinkConditions {
  std::chrono::microseconds latency{0};  // one way
  double bytes_per_s = 0;                // a message takes its wire bytes / this longer; 0 = no limit
  double loss = 0;                       // share of messages lost, in [0, 1)
};

class InMemoryNetwork {
 public:
  explicit InMemoryNetwork(asio::io_context& io) : io_(io) {}
  InMemoryNetwork(const InMemoryNetwork&) = delete;
  InMemoryNetwork& operator=(const InMemoryNetwork&) = delete;

  // A transport at `address` ("host:port" by convention). The address must be unused.
  std::unique_ptr<Transport> NewTransport(const std::string& address);
  // Simulates a crash: requests to and from `address` fail with "no route" until Revive.
  void Crash(const std::string& address);
  void Revive(const std::string& address);
  // Addresses in different groups cannot reach each other (a partition); all start in group 0.
  void SetGroup(const std::string& address, int group);
  void ClearGroups() { groups_.clear(); }
  // Conditions of every link from now on; `seed` drives the losses.
  void SetLinks(LinkConditions links, std::uint64_t seed);

 private:
  friend class InMemoryTransport;
  // The live transport at `address`, or nullptr if there is none or it has crashed.
  InMemoryTransport* Reachable(const std::string& address) const;
  bool Partitioned(const std::string& a, const std::string& b) const;
  // Runs `deliver` when a message of `bytes` wire bytes sent now arrives; never if it is lost.
  void Carry(std::uint64_t bytes, std::function<void()> deliver);

  asio::io_context& io_;
  std::map<std::string, InMemoryTransport*> transports_;
  std::set<std::string> crashed_;
  std::map<std::string, int> groups_;  // absent = group 0
  LinkConditions links_;
  std::mt19937_64 loss_rng_;
};

}  // namespace gl::gossip

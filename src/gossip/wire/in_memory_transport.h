// InMemoryNetwork: transports that reach each other by address inside one process, on one
// io_context, without sockets; used to run whole gossip clusters in tests.
//
// Frames are delivered as they are (no header on a wire), but bytes are counted as if they
// were (kFrameHeaderSize + body). An unknown, shut-down or crashed address answers "no route"
// (Unavailable) like a refused connection; a handler that never responds yields Timeout at the
// requester's deadline (the serving side has none, so Respond::ExpectReplyWithin changes nothing).
// Ownership: the network must outlive its transports. Threading: io_context thread only.
#pragma once

#include <asio.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "gossip/wire/transport.h"

namespace gl::gossip {

class InMemoryTransport;

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

 private:
  friend class InMemoryTransport;
  // The live transport at `address`, or nullptr if there is none or it has crashed.
  InMemoryTransport* Reachable(const std::string& address) const;

  asio::io_context& io_;
  std::map<std::string, InMemoryTransport*> transports_;
  std::set<std::string> crashed_;
};

}  // namespace gl::gossip

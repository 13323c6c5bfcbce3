// Peer discovery: yields peer up/down events; knows nothing of models or gossip.
//
// Two implementations: Avahi (mDNS/DNS-SD through the avahi-daemon on the D-Bus system
// bus; DBUS_SYSTEM_BUS_ADDRESS is honoured) and static (a fixed address list). Both may
// run at once; the caller merges their events into its peer table.
//
// Ownership: the caller owns the Discovery. Threading: Start/Stop may be called
// from any thread, but not concurrently with each other and never from inside the
// callback. The callback runs on the discovery's own thread (the Avahi poll thread; for
// static discovery, synchronously inside Start) and must not block. No callback runs
// after Stop() returns. The destructor calls Stop().
//
// mDNS is not failure detection: a crashed host stays listed in mDNS caches for minutes,
// so kDown only means "no longer announced"; the gossip layer detects dead peers itself.
// IPv6 is deliberately skipped: browsing and resolving use IPv4 only (AVAHI_PROTO_INET),
// since link-local IPv6 addresses need a scope id that the dial string cannot carry.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace gl::discovery {

inline constexpr char kServiceType[] = "_gossip-learner._tcp";

struct PeerEvent {
  enum class Kind { kUp, kDown };
  Kind kind;
  std::string source;        // "mdns" or "static"
  std::string service_name;  // mDNS instance name ("" for static)
  std::string id;            // node id from TXT ("" for static)
  std::string address;       // "host:port" to dial, IPv4 dotted quad for mdns (e.g. "127.0.0.1:7001")
  std::map<std::string, std::string> txt;  // all TXT keys (id, proto, sig, cluster, role)
};

struct Options {
  // Node id published in TXT "id"; services carrying our own id are skipped. Required for
  // Avahi (Start fails with kInvalidArgument if empty). Default "".
  std::string node_id;
  // Cluster name published in TXT "cluster"; services of another cluster are skipped.
  // Default "default".
  std::string cluster = "default";
  // TCP port we publish (where our gossip server listens). 0 = browse only, publish
  // nothing. Default 0.
  uint16_t port = 0;
  // Short hash of the model signature, published in TXT "sig"; services whose "sig"
  // differs (exact string comparison) are skipped. Default "".
  std::string signature_hash;
  // Role published in TXT "role" ("node" or "coordinator"); fixed for the node's lifetime.
  std::string role = "node";
  // Wire protocol version, published in TXT "proto"; services with another one are skipped.
  // The node sets the gossip frame format's (gossip::kProtocolVersion): this library does not
  // depend on gossip.
  int protocol_version = 1;
  // If the daemon is not RUNNING within this time after Start (or is unreachable at
  // once), one warning "avahi-daemon not reachable: using static peers only" is logged.
  std::chrono::milliseconds connect_timeout{2000};
  // mDNS instance name to publish. "" = "gossip-learner <node_id>". Cut to 63 bytes (DNS
  // label limit). A name already taken on the network is replaced by Avahi's alternative
  // name ("x #2"). Default "".
  std::string service_name;
  // While the D-Bus system bus itself is unreachable, how often to retry connecting
  // (with the bus up, the Avahi client waits for the daemon by itself). Default 1 s.
  std::chrono::milliseconds retry_interval{1000};
};

class Discovery {
 public:
  using Callback = std::function<void(const PeerEvent&)>;  // called on discovery's own thread; must not block
  virtual ~Discovery() = default;
  virtual Status Start(Callback on_event) = 0;  // Avahi: never fails because the daemon is missing (warns once)
  virtual void Stop() = 0;                      // idempotent; withdraws the mDNS service
};

// mDNS/DNS-SD through avahi-daemon. Events are keyed by `address` (several services at one
// address, e.g. during a rename, are one peer). Emits kUp when a matching service resolves
// (again when its TXT or name changes; kDown for the old address then kUp
// when its address changes), kDown when the last service at an address is removed or the
// daemon connection is lost (then for every mDNS peer); reconnects, re-publishes and
// re-browses by itself when the daemon comes back.
std::unique_ptr<Discovery> MakeAvahiDiscovery(const Options& options);

// Fixed "host:port" list. Start validates every entry (kInvalidArgument names the bad
// one, nothing emitted) and emits one kUp per distinct address, synchronously, on the
// calling thread. Stop emits nothing.
std::unique_ptr<Discovery> MakeStaticDiscovery(std::vector<std::string> addresses);

}  // namespace gl::discovery

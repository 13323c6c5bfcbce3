// ServiceTable: bookkeeping that turns per-interface mDNS resolve/remove results into peer
// up/down events keyed by the dialable address, which is how peers are told apart:
//  - a service seen on several interfaces is announced once (the lowest interface wins);
//  - several services at one address (e.g. a peer's old and new name during a rename) make
//    one peer: kDown only when the last of them goes;
//  - a changed TXT (e.g. SetRole) or service name at an address is announced again as kUp;
//    a changed address is kDown of the old address (if nothing else is there) and kUp of
//    the new one.
// No Avahi calls; not thread-safe (the Avahi discovery uses it only on its poll thread).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "discovery/discovery.h"

namespace gl::discovery {

class ServiceTable {
 public:
  // Each call returns the events to emit, in order (often none).

  // `peer` (kind kUp) was resolved for service `name` on interface `iface`.
  std::vector<PeerEvent> Resolved(const std::string& name, int iface, PeerEvent peer);
  // Service `name` no longer provides a peer on `iface` (removed, filtered, failed).
  std::vector<PeerEvent> Removed(const std::string& name, int iface);
  // Forgets everything; returns a kDown for every announced address.
  std::vector<PeerEvent> Clear();

  // Number of addresses currently announced (kUp emitted, no kDown since).
  size_t announced() const { return peers_.size(); }

 private:
  struct Peer {
    PeerEvent event;  // as last announced
    int services;     // how many services currently resolve to this address
  };
  // What service `name` currently resolves to (its lowest interface), if anything.
  std::optional<PeerEvent> Current(const std::string& name) const;
  // The events that take the announced state from `before` to `after` for one service.
  std::vector<PeerEvent> Update(const std::optional<PeerEvent>& before, const std::optional<PeerEvent>& after);

  std::map<std::string, std::map<int, PeerEvent>> services_;  // name -> interface -> resolved peer
  std::map<std::string, Peer> peers_;                          // address -> announced peer
};

}  // namespace gl::discovery

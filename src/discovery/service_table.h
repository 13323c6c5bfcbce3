// ServiceTable: bookkeeping that turns per-interface mDNS resolve/remove results into
// peer up/down events, so that a service seen on several interfaces is announced once
// and a changed address or TXT is announced again. No Avahi calls; not thread-safe (the
// Avahi discovery uses it only on its poll thread).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "discovery/discovery.h"

namespace gl::discovery {

class ServiceTable {
 public:
  // `peer` (kind kUp) was resolved for service `name` on interface `iface`. Returns the
  // kUp to emit if the service was not announced yet or is now announced differently
  // (address or TXT changed); nullopt if nothing changed.
  std::optional<PeerEvent> Resolved(const std::string& name, int iface, PeerEvent peer);

  // Service `name` no longer provides a peer on `iface` (removed, filtered, failed).
  // Returns the kDown to emit if that was the last interface carrying an announced peer,
  // or the kUp of the interface that takes over with a different address/TXT.
  std::optional<PeerEvent> Removed(const std::string& name, int iface);

  // Forgets everything; returns a kDown for every announced peer.
  std::vector<PeerEvent> Clear();

  // Number of services currently announced (kUp emitted, no kDown since).
  size_t announced() const { return services_.size(); }

 private:
  struct Entry {
    std::map<int, PeerEvent> by_iface;  // resolved peers, lowest interface announced
    PeerEvent announced;
  };
  // Re-derives what `name` should announce and returns the event that gets it there.
  std::optional<PeerEvent> Update(const std::string& name, Entry entry, bool was_announced);

  std::map<std::string, Entry> services_;  // only services with at least one resolved peer
};

}  // namespace gl::discovery

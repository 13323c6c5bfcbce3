// ServiceTable: bookkeeping that turns per-interface mDNS resolve/remove results into
// peer up/down events, so that a service seen on several interfaces is announced once
// and a changed address or TXT is announced again. No Avahi calls; not thread-safe (the
// Avahi discovery uses it only on its poll thread).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "discovery/discovery.h"

namespace gl::discovery {

class ServiceTable {
 public:
  // Both calls return the events to emit, in order: nothing if what is announced for the
  // service does not change; kUp when it is first announced or only its TXT changed;
  // kDown (old address) then kUp (new) when its address changed; kDown when the last
  // interface carrying it is gone.

  // `peer` (kind kUp) was resolved for service `name` on interface `iface`.
  std::vector<PeerEvent> Resolved(const std::string& name, int iface, PeerEvent peer);
  // Service `name` no longer provides a peer on `iface` (removed, filtered, failed).
  std::vector<PeerEvent> Removed(const std::string& name, int iface);

  // Forgets everything; returns a kDown for every announced peer.
  std::vector<PeerEvent> Clear();

  // Number of services currently announced (kUp emitted, no kDown since).
  size_t announced() const { return services_.size(); }

 private:
  struct Entry {
    std::map<int, PeerEvent> by_iface;  // resolved peers, lowest interface announced
    PeerEvent announced;
  };
  // Re-derives what `name` should announce and returns the events that get it there.
  std::vector<PeerEvent> Update(const std::string& name, Entry entry, bool was_announced);

  std::map<std::string, Entry> services_;  // only services with at least one resolved peer
};

}  // namespace gl::discovery

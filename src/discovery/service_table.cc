// Per-interface service bookkeeping (see service_table.h).
#include "discovery/service_table.h"

#include <utility>

namespace gl::discovery {
namespace {

PeerEvent AsDown(PeerEvent peer) {
  peer.kind = PeerEvent::Kind::kDown;
  return peer;
}

}  // namespace

std::vector<PeerEvent> ServiceTable::Resolved(const std::string& name, int iface, PeerEvent peer) {
  peer.kind = PeerEvent::Kind::kUp;
  const auto it = services_.find(name);
  const bool was_announced = it != services_.end();
  Entry entry = was_announced ? std::move(it->second) : Entry{};
  entry.by_iface[iface] = std::move(peer);
  return Update(name, std::move(entry), was_announced);
}

std::vector<PeerEvent> ServiceTable::Removed(const std::string& name, int iface) {
  const auto it = services_.find(name);
  if (it == services_.end()) return {};
  Entry entry = std::move(it->second);
  entry.by_iface.erase(iface);
  return Update(name, std::move(entry), true);
}

std::vector<PeerEvent> ServiceTable::Update(const std::string& name, Entry entry, bool was_announced) {
  std::vector<PeerEvent> events;
  if (entry.by_iface.empty()) {
    events.push_back(AsDown(std::move(entry.announced)));
    services_.erase(name);
    return events;
  }
  const PeerEvent& wanted = entry.by_iface.begin()->second;
  if (was_announced && wanted.address != entry.announced.address) events.push_back(AsDown(entry.announced));
  if (!was_announced || wanted.address != entry.announced.address || wanted.txt != entry.announced.txt) {
    entry.announced = wanted;
    events.push_back(wanted);
  }
  services_[name] = std::move(entry);
  return events;
}

std::vector<PeerEvent> ServiceTable::Clear() {
  std::vector<PeerEvent> downs;
  for (auto& [name, entry] : services_) downs.push_back(AsDown(std::move(entry.announced)));
  services_.clear();
  return downs;
}

}  // namespace gl::discovery

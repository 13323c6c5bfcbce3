// Per-interface service bookkeeping (see service_table.h).
#include "discovery/service_table.h"

#include <utility>

namespace gl::discovery {
namespace {

bool SamePeer(const PeerEvent& a, const PeerEvent& b) { return a.address == b.address && a.txt == b.txt; }

PeerEvent AsDown(PeerEvent peer) {
  peer.kind = PeerEvent::Kind::kDown;
  return peer;
}

}  // namespace

std::optional<PeerEvent> ServiceTable::Resolved(const std::string& name, int iface, PeerEvent peer) {
  peer.kind = PeerEvent::Kind::kUp;
  const auto it = services_.find(name);
  const bool was_announced = it != services_.end();
  Entry entry = was_announced ? std::move(it->second) : Entry{};
  entry.by_iface[iface] = std::move(peer);
  return Update(name, std::move(entry), was_announced);
}

std::optional<PeerEvent> ServiceTable::Removed(const std::string& name, int iface) {
  const auto it = services_.find(name);
  if (it == services_.end()) return std::nullopt;
  Entry entry = std::move(it->second);
  entry.by_iface.erase(iface);
  return Update(name, std::move(entry), true);
}

std::optional<PeerEvent> ServiceTable::Update(const std::string& name, Entry entry, bool was_announced) {
  if (entry.by_iface.empty()) {
    PeerEvent down = AsDown(std::move(entry.announced));
    services_.erase(name);
    return down;
  }
  const PeerEvent& wanted = entry.by_iface.begin()->second;
  const bool changed = !was_announced || !SamePeer(wanted, entry.announced);
  if (changed) entry.announced = wanted;
  std::optional<PeerEvent> event;
  if (changed) event = entry.announced;
  services_[name] = std::move(entry);
  return event;
}

std::vector<PeerEvent> ServiceTable::Clear() {
  std::vector<PeerEvent> downs;
  for (auto& [name, entry] : services_) downs.push_back(AsDown(std::move(entry.announced)));
  services_.clear();
  return downs;
}

}  // namespace gl::discovery

// Address-keyed service bookkeeping (see service_table.h).
#include "discovery/service_table.h"

#include <utility>

namespace gl::discovery {
namespace {

PeerEvent AsDown(PeerEvent peer) {
  peer.kind = PeerEvent::Kind::kDown;
  return peer;
}

}  // namespace

std::optional<PeerEvent> ServiceTable::Current(const std::string& name) const {
  const auto it = services_.find(name);
  if (it == services_.end() || it->second.empty()) return std::nullopt;
  return it->second.begin()->second;
}

std::vector<PeerEvent> ServiceTable::Resolved(const std::string& name, int iface, PeerEvent peer) {
  peer.kind = PeerEvent::Kind::kUp;
  const auto before = Current(name);
  services_[name][iface] = std::move(peer);
  return Update(before, Current(name));
}

std::vector<PeerEvent> ServiceTable::Removed(const std::string& name, int iface) {
  const auto it = services_.find(name);
  if (it == services_.end() || !it->second.contains(iface)) return {};
  const auto before = Current(name);
  it->second.erase(iface);
  if (it->second.empty()) services_.erase(it);
  return Update(before, Current(name));
}

std::vector<PeerEvent> ServiceTable::Update(const std::optional<PeerEvent>& before,
                                            const std::optional<PeerEvent>& after) {
  std::vector<PeerEvent> events;
  const bool moved = before && (!after || after->address != before->address);
  if (moved) {
    const auto old = peers_.find(before->address);
    if (--old->second.services == 0) {
      events.push_back(AsDown(std::move(old->second.event)));
      peers_.erase(old);
    }
  }
  if (!after) return events;
  const auto [it, fresh] = peers_.try_emplace(after->address, Peer{*after, 0});
  if (fresh || moved || !before) ++it->second.services;
  const PeerEvent& known = it->second.event;
  if (fresh || known.txt != after->txt || known.service_name != after->service_name) events.push_back(*after);
  it->second.event = *after;
  return events;
}

std::vector<PeerEvent> ServiceTable::Clear() {
  std::vector<PeerEvent> downs;
  for (auto& [address, peer] : peers_) downs.push_back(AsDown(std::move(peer.event)));
  peers_.clear();
  services_.clear();
  return downs;
}

}  // namespace gl::discovery

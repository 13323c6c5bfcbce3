#include "gossip/peer_table.h"

#include <algorithm>

namespace gl::gossip {

const char* PeerStateName(PeerState state) {
  switch (state) {
    case PeerState::kAlive: return "alive";
    case PeerState::kSuspect: return "suspect";
    case PeerState::kDead: return "dead";
    case PeerState::kIncompatible: return "incompatible";
  }
  return "?";
}

std::chrono::milliseconds RetryBackoff(const PeerTableConfig& config, std::uint32_t consecutive_failures) {
  // Suspect peers are retried after `base`; dead ones after base, 2 x base, 4 x base, ...
  const std::uint32_t doublings =
      consecutive_failures > config.dead_after_failures ? consecutive_failures - config.dead_after_failures : 0;
  std::chrono::milliseconds delay = config.retry_backoff_base;
  for (std::uint32_t i = 0; i < doublings && delay < config.retry_backoff_max; ++i) delay *= 2;
  return std::min(delay, config.retry_backoff_max);
}

bool PeerTable::Add(const std::string& address, const std::string& source, const std::string& id_hint,
                    TimePoint now) {
  auto [it, inserted] = peers_.try_emplace(address);
  Peer& peer = it->second;
  if (inserted) peer.address = address;
  peer.sources.insert(source);
  if (peer.id.empty()) peer.id = id_hint;
  if (!inserted && source == "mdns" && peer.state == PeerState::kDead) {
    peer.state = PeerState::kAlive;
    peer.consecutive_failures = 0;
    peer.next_retry = now;
    peer.handshaken = false;
  }
  return inserted;
}

bool PeerTable::Remove(const std::string& address, const std::string& source) {
  auto it = peers_.find(address);
  if (it == peers_.end()) return false;
  it->second.sources.erase(source);
  if (!it->second.sources.empty()) return false;
  peers_.erase(it);
  return true;
}

Peer* PeerTable::Find(const std::string& address) {
  auto it = peers_.find(address);
  return it == peers_.end() ? nullptr : &it->second;
}

void PeerTable::RecordSuccess(const std::string& address, TimePoint now) {
  Peer* peer = Find(address);
  if (peer == nullptr) return;
  peer->last_seen = now;
  peer->consecutive_failures = 0;
  if (peer->state == PeerState::kIncompatible) return;
  if (peer->state == PeerState::kDead) peer->handshaken = false;  // it may have restarted
  peer->state = PeerState::kAlive;
}

void PeerTable::RecordFailure(const std::string& address, TimePoint now) {
  Peer* peer = Find(address);
  if (peer == nullptr) return;
  if (peer->state == PeerState::kIncompatible) {  // its re-check failed: the next one later
    peer->next_retry = now + config_.retry_backoff_max;
    return;
  }
  ++peer->failures;
  ++peer->consecutive_failures;
  peer->state = peer->consecutive_failures >= config_.dead_after_failures ? PeerState::kDead : PeerState::kSuspect;
  peer->next_retry = now + RetryBackoff(config_, peer->consecutive_failures);
}

bool PeerTable::RecordHello(const std::string& address, const std::string& id, const std::string& role) {
  Peer* peer = Find(address);
  if (peer == nullptr) return false;
  peer->id = id;
  peer->role = role;
  peer->handshaken = true;
  if (peer->state == PeerState::kIncompatible) peer->state = PeerState::kAlive;
  return true;
}

bool PeerTable::MarkIncompatible(const std::string& address, const std::string& id, TimePoint now) {
  Peer* peer = Find(address);
  if (peer == nullptr) return false;
  const bool newly = peer->state != PeerState::kIncompatible;
  if (!id.empty()) peer->id = id;
  peer->state = PeerState::kIncompatible;
  peer->handshaken = false;
  peer->next_retry = now + config_.retry_backoff_max;
  return newly;
}

std::optional<std::string> PeerTable::PickGossipTarget(TimePoint now, std::mt19937_64& rng) const {
  std::vector<const std::string*> candidates;
  for (const auto& [address, peer] : peers_) {
    const bool retry_due =
        (peer.state == PeerState::kSuspect || peer.state == PeerState::kIncompatible) && peer.next_retry <= now;
    if (peer.state == PeerState::kAlive || retry_due) candidates.push_back(&address);
  }
  if (candidates.empty()) return std::nullopt;
  std::uniform_int_distribution<std::size_t> pick(0, candidates.size() - 1);
  return *candidates[pick(rng)];
}

std::vector<std::string> PeerTable::DueForProbe(TimePoint now, std::chrono::milliseconds quiet_for) const {
  std::vector<std::string> due;
  for (const auto& [address, peer] : peers_) {
    switch (peer.state) {
      case PeerState::kAlive:
        if (!peer.last_seen || now - *peer.last_seen >= quiet_for) due.push_back(address);
        break;
      case PeerState::kSuspect:
      case PeerState::kDead:
        if (peer.next_retry <= now) due.push_back(address);
        break;
      case PeerState::kIncompatible:
        break;
    }
  }
  return due;
}

}  // namespace gl::gossip

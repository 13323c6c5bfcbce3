// PeerTable: what this node knows about its peers, and the failure-detection state machine.
// Pure logic: no I/O, no timers, no logging; the time is passed in, so tests drive it.
//
// States: a peer starts alive. A failed contact makes it suspect; `dead_after_failures`
// consecutive failures make it dead. A suspect peer is retried after `base`; a dead one after
// base x 2^(failures - dead_after_failures), capped at max (1 s, 2 s, 4 s ... 30 s by default). Any successful contact makes it alive again, and so
// does a fresh mDNS announcement of a dead peer. Incompatible (other protocol or model, as a
// Hello this node asked for said) is not final: such a peer is not probed, and it is asked
// again (a new Hello) retry_backoff_max after the verdict; a compatible answer makes it
// alive. A peer may be upgraded or mis-set only for a while, and a verdict is never kept
// for good on one answer.
// A peer is known by its address and remembered while at least one source ("static",
// "mdns", ...) lists it. Threading: not thread-safe; the engine uses it on its io thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace gl::gossip {

enum class PeerState { kAlive, kSuspect, kDead, kIncompatible };
const char* PeerStateName(PeerState state);  // "alive", "suspect", "dead", "incompatible"

struct Peer {
  using TimePoint = std::chrono::steady_clock::time_point;
  std::string address;
  std::string id;                     // from Hello or the discovery hint; may be empty
  std::string role;                   // from its latest compatible Hello reply ("" = none yet)
  std::set<std::string> sources;
  PeerState state = PeerState::kAlive;
  std::optional<TimePoint> last_seen; // last successful contact
  std::uint64_t exchanges = 0;        // successful model exchanges started by this node
  std::uint64_t failures = 0;         // failed contacts, in total
  std::uint32_t consecutive_failures = 0;
  TimePoint next_retry{};             // suspect/dead/incompatible: not contacted before this
  bool handshaken = false;            // Hello answered since the peer was (re)admitted
};

struct PeerTableConfig {
  std::uint32_t dead_after_failures = 3;
  std::chrono::milliseconds retry_backoff_base{1000};
  std::chrono::milliseconds retry_backoff_max{30000};
};

// The retry delay after `consecutive_failures` (>= 1) consecutive failures.
std::chrono::milliseconds RetryBackoff(const PeerTableConfig& config, std::uint32_t consecutive_failures);

class PeerTable {
 public:
  using TimePoint = Peer::TimePoint;
  explicit PeerTable(PeerTableConfig config) : config_(config) {}

  // Adds `address` from `source`, or adds the source to a known peer. An "mdns" announcement
  // of a dead peer re-admits it (alive, due for a Hello). Returns true if the peer is new.
  bool Add(const std::string& address, const std::string& source, const std::string& id_hint, TimePoint now);
  // Drops `source` for `address`; the peer is forgotten with its last source. True if forgotten.
  bool Remove(const std::string& address, const std::string& source);

  void RecordSuccess(const std::string& address, TimePoint now);
  void RecordFailure(const std::string& address, TimePoint now);
  void RecordExchange(const std::string& address) { if (Peer* p = Find(address)) ++p->exchanges; }
  // After a compatible Hello reply: learns the id and role; an incompatible peer is alive
  // again. Returns false if the address is unknown.
  bool RecordHello(const std::string& address, const std::string& id, const std::string& role);
  // After an incompatible Hello reply (or model) from the peer at `address`: not contacted
  // again before now + retry_backoff_max. Returns true only when it was not incompatible
  // already, so the caller logs a verdict once.
  bool MarkIncompatible(const std::string& address, const std::string& id, TimePoint now);

  // Uniformly random among alive peers and suspect or incompatible peers whose retry is due
  // (an incompatible one is due a new Hello); nullopt if none.
  std::optional<std::string> PickGossipTarget(TimePoint now, std::mt19937_64& rng) const;
  // Peers to ping now: alive ones not heard from within `quiet_for`, suspect and dead ones
  // whose retry is due. Never incompatible ones.
  std::vector<std::string> DueForProbe(TimePoint now, std::chrono::milliseconds quiet_for) const;

  Peer* Find(const std::string& address);
  const std::map<std::string, Peer>& peers() const { return peers_; }

 private:
  PeerTableConfig config_;
  std::map<std::string, Peer> peers_;  // by address
};

}  // namespace gl::gossip

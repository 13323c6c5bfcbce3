// RoundParticipant: the node side of coordinator mode. It serves RoundRequests (hands the
// global model to RoundWorker::Train and answers with the trained model) and decides the
// node's mode: "federated" while the coordinator it follows has been heard from within
// failover_timeout (a round request, a probe answer, an mDNS announcement), "gossip"
// otherwise. Entering federated mode pauses the engine's gossip initiation; leaving it
// resumes gossip from the last global model received.
//
// Several coordinators: the node follows the one with the smallest id among those heard
// from recently, logs the conflict loudly (once per pair) and refuses the others' requests.
//
// Threading: io thread only, like the Engine. Ownership: `io`, `engine` and `worker` must
// outlive it; Stop() (also run by the destructor) makes pending callbacks no-ops.
#pragma once

#ifndef ASIO_STANDALONE
#define ASIO_STANDALONE
#endif
#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gossip/engine.h"
#include "gossip/round_messages.h"
#include "gossip/round_worker.h"

namespace gl::gossip {

struct ParticipantOptions {
  std::string node_id;
  std::string signature;        // of the local model; requests with another one are refused
  std::size_t param_count = 0;
  // How long the followed coordinator may be silent before the node goes back to gossip.
  std::chrono::milliseconds failover_timeout{15000};
};

struct ParticipantStats {
  bool federated = false;
  std::string coordinator;              // id of the followed coordinator ("" if none)
  std::uint64_t last_round_served = 0;  // 0 = none yet
  std::uint64_t rounds_served = 0;
  std::uint64_t requests_refused = 0;
};

class RoundParticipant {
 public:
  RoundParticipant(asio::io_context& io, ParticipantOptions options, Engine& engine, RoundWorker& worker);
  ~RoundParticipant();
  RoundParticipant(const RoundParticipant&) = delete;
  RoundParticipant& operator=(const RoundParticipant&) = delete;

  // Registers with the engine as its round handler and coordinator observer (Hello role),
  // and starts the failover check.
  void Start();
  void Stop();  // idempotent

  // A coordinator announced itself (mDNS TXT role=coordinator, or a Hello).
  void NoteCoordinator(const std::string& id, const std::string& address);
  ParticipantStats Stats() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Coordinator {
    std::string id;
    std::string address;
    Clock::time_point last_heard;
  };

  void OnRequest(const std::string& from, Frame request, Transport::Respond respond);
  // Records that `id` is alive; returns true if it is (now) the followed coordinator.
  bool Hear(const std::string& id, const std::string& address);
  void OnTrained(std::uint64_t round, Result<LocalTraining> trained, const Transport::Respond& respond);
  void CheckCoordinators();
  void ScheduleCheck();
  void SetFederated(bool federated);
  // Forgets coordinators silent for longer than failover_timeout (their probes count).
  void ForgetSilent();
  const Coordinator* Followed() const;

  asio::io_context& io_;
  const ParticipantOptions options_;
  Engine& engine_;
  RoundWorker& worker_;
  asio::steady_timer check_timer_;
  std::shared_ptr<int> alive_token_ = std::make_shared<int>(0);
  std::vector<Coordinator> coordinators_;  // heard from within failover_timeout
  std::set<std::string> conflicts_logged_;
  std::vector<float> last_global_;
  ParticipantStats stats_;
};

}  // namespace gl::gossip

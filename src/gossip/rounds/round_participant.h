// RoundParticipant: the node side of coordinator mode. It serves RoundRequests (hands the
// global model to RoundWorker::Train and answers with the trained model) and decides the
// node's mode: "federated" while it follows a coordinator, "gossip" otherwise. Entering
// federated mode pauses the engine's gossip initiation; leaving it resumes gossip from the
// last global model received.
//
// What a RoundRequest must pass before it is served (anything else is refused with Error,
// counted in requests_refused and logged at most once per host and 10 s):
//  - its fields (ValidateRoundRequest): a coordinator id, epochs in [1, kMaxRoundEpochs],
//    batch size in [1, kMaxRoundBatchSize], a finite learning rate in (0, kMaxRoundLearningRate);
//  - its model, screened like a gossip offer (MergePolicy::Screen, merge/merge_policy.h:
//    signature, length, all finite, the max_update_norm bound against the local model), as it
//    replaces the local model;
//  - its sender: the coordinator must be a peer the engine already knows (static config or
//    discovery vouch for its address; a request never adds a peer), whose own Hello reply,
//    on a connection this node opened, gave the claimed id and role "coordinator", and the
//    request must come from that peer's host when its address is a literal IP. A request
//    from a coordinator not verified yet is held (at most kMaxWaitingRequests at once) while
//    the engine says Hello to the candidates (known peers with that id or no id yet, not
//    handshaken), then served or refused on what they answered.
//
// Following: the node follows a verified coordinator from its first valid round on (an
// announcement alone pauses nothing), and only while it runs rounds: one within
// failover_timeout, or one being trained here right now (its probe answers then keep it
// followed: a long round on a slow node is not a silence). Several coordinators: the node
// follows the smallest id among those, logs the conflict loudly (once per pair) and refuses
// the others' requests.
//
// Threading: io thread only, like the Engine. Ownership: `io`, `engine` and `worker` must
// outlive it; Stop() (also run by the destructor) makes pending callbacks no-ops.
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gossip/wire/auth_rate_limit.h"
#include "gossip/engine.h"
#include "gossip/merge/merge_policy.h"
#include "gossip/wire/round_messages.h"
#include "gossip/rounds/round_worker.h"

namespace gl::gossip {

// OK, or InvalidArgument naming the first field out of its range (round_messages.h limits).
Status ValidateRoundRequest(const RoundRequest& request);

struct ParticipantOptions {
  std::string node_id;
  std::string signature;        // of the local model
  std::size_t param_count = 0;
  // How long the followed coordinator may go without a round before the node goes back to gossip.
  std::chrono::milliseconds failover_timeout{15000};
  // How long the transport holds a RoundRequest open for its reply, which comes only after
  // local training: the coordinator's round deadline. Default 10 min (a slow Pi).
  std::chrono::milliseconds reply_deadline{600000};
  // A round's model further (L2) than this and 4x the local model's norm from the local model
  // is refused (MergePolicyOptions::max_update_norm). 0 = no bound.
  double max_update_norm = 0;
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

  // Registers with the engine as its round handler and starts the failover check.
  void Start();
  void Stop();  // idempotent

  ParticipantStats Stats() const;

 private:
  struct KnownCoordinator {
    std::string id;
    std::string address;  // its peer-table address
    Clock::time_point last_round;
    int rounds_training = 0;  // its rounds being trained here now
  };

  struct WaitingRequest {
    std::string from;
    RoundRequest request;
    Transport::Respond respond;
    std::size_t hellos_left;
  };
  static constexpr int kMaxWaitingRequests = 8;

  // How a round's reply goes: in the request's codec, as a difference from `reference` (the
  // request's model as decoded) when the request asked for one and this node lists int4-delta.
  struct ReplyFormat {
    ModelCodec codec;
    std::shared_ptr<const std::vector<float>> reference;  // null: the whole model
  };

  void OnRequest(const std::string& from, Frame request, Transport::Respond respond);
  // A request with valid fields: verified, screened, then trained; `may_wait`: it may be held
  // for the Hellos that would verify its coordinator.
  void Serve(const std::string& from, RoundRequest request, Transport::Respond respond, bool may_wait);
  // Refuses a request: Error reply, counted, logged at most once per host and 10 s.
  void Refuse(const std::string& from, const Status& why, const Transport::Respond& respond);
  // The peer-table address of the verified coordinator `id` a request from `from` may come
  // from; else Rejected.
  Result<std::string> VerifiedCoordinator(const std::string& id, const std::string& from) const;
  // Known peers that could turn out to be coordinator `id` after a Hello.
  std::vector<std::string> Candidates(const std::string& id) const;
  // Records a valid round of the verified coordinator `id`; true if it is (now) the followed one.
  bool HearRound(const std::string& id, const std::string& address);
  void OnTrained(const std::string& coordinator, std::uint64_t round, const ReplyFormat& format,
                 Result<LocalTraining> trained, const Transport::Respond& respond);
  void CheckCoordinators();
  void ScheduleCheck();
  void SetFederated(bool federated);
  // Forgets coordinators without a round for longer than failover_timeout.
  void ForgetSilent();
  KnownCoordinator* Find(const std::string& id);
  const KnownCoordinator* Followed() const;

  asio::io_context& io_;
  const ParticipantOptions options_;
  Engine& engine_;
  RoundWorker& worker_;
  Timer check_timer_;
  std::shared_ptr<int> alive_token_ = std::make_shared<int>(0);
  std::vector<KnownCoordinator> coordinators_;  // verified peers with a round within failover_timeout
  std::set<std::string> conflicts_logged_;  // pairs of such peers' ids: bounded by the peer table
  LogGate refusals_log_gate_{std::chrono::seconds(10)};
  int waiting_ = 0;  // requests held for Hellos
  std::vector<float> last_global_;
  ParticipantStats stats_;
  MergePolicy round_screen_;  // Screen only, against the local model
};

}  // namespace gl::gossip

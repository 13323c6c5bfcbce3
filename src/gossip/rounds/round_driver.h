// RoundDriver: the coordinator's loop of server-led Federated Averaging, written
// once; the policy is a Strategy. Each round:
//   live peers (engine, state alive) [+ this node if it trains too] -> Strategy::ConfigureRound
//   -> RoundRequest to each participant, in the model codec its Hello reply negotiated (a
//      Hello first if it had none: a coordinator does not gossip), asking for an int4-delta
//      reply where both list it, which is added back to the exact global model; an SGD round
//      (RoundConfig::optimizer) goes in fp32 to a participant that cannot reply so, and not
//      at all to one whose Hello lacks kHelloTrainsWithSgd (own training through
//      RoundWorker::Train)
//   -> collect replies until all are in or the round deadline passes; a participant whose
//      heartbeat fails (the engine's probes mark it dead) is dropped at once; a reply that
//      fails MergePolicy::Screen (merge/merge_policy.h) against the global model it was sent
//      (signature, length, finite, max_update_norm) is dropped, logged and counted per peer
//   -> if >= min_nodes answered: Strategy::Aggregate, RoundWorker::PublishGlobal (evaluate +
//      checkpoint the global model and the server optimizer's state, off this thread), next
//      round; else the same round is retried after retry_delay. Failed and late participants
//      are logged and left out of the round.
//
// Threading: io thread only; never blocks it (training and evaluation run on the worker's
// thread). Ownership: `io`, `engine`, `transport`, `strategy` and `worker` must outlive the
// driver; it sends requests on the engine's transport, so Stop() it before the engine.
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gossip/engine.h"
#include "gossip/merge/merge_policy.h"
#include "gossip/wire/round_messages.h"
#include "gossip/rounds/round_worker.h"
#include "gossip/rounds/strategy.h"

namespace gl::gossip {

struct RoundDriverOptions {
  std::string node_id;
  std::string listen_address;    // this node's; sent in requests so participants can probe it
  std::string signature;         // of the global model
  std::uint32_t min_nodes = 2;   // replies a round needs to complete
  // A participant that has not answered this long after the round started is left out.
  // Also the transport's reply deadline for the request. Default 10 min (a slow Pi).
  std::chrono::milliseconds round_deadline{600000};
  // Pause before retrying a round that failed or could not start (too few live peers).
  std::chrono::milliseconds retry_delay{1000};
  // How often the participants' liveness (the engine's probe results) is checked.
  std::chrono::milliseconds heartbeat_check{250};
  bool coordinator_trains = false;  // this node trains on its own data in each round too
  // Replies further (L2) than this from the global model they were sent are refused, as a
  // node's MergePolicy refuses gossiped models (MergePolicyOptions::max_update_norm, here
  // without the share of the model's norm). 0 = no bound.
  double max_update_norm = 0;
};

struct RoundStats {
  std::uint64_t round = 0;                // last completed round (0 = none yet)
  std::vector<std::string> participants;  // who answered in that round
  std::vector<std::string> dropped;       // who failed or missed its deadline
  std::uint64_t dropped_total = 0;        // participants left out, summed over all attempts
  std::uint64_t rounds_retried = 0;       // attempts that ended with fewer than min_nodes replies
  std::uint64_t rejected_replies = 0;     // replies refused by the screen (never aggregated)
  std::map<std::string, std::uint64_t> rejected_by_peer;  // rejected_replies per "sender_id@host"
  double last_round_ms = 0;               // wall time of the last completed round
  double last_overhead_ms = 0;            // the same minus the slowest participant's training time
  double mean_overhead_ms = 0;            // over all completed rounds since start
  std::string strategy;                   // Strategy::Summary()
};

class RoundDriver {
 public:
  // `global` is the starting model; `last_round` the last completed round (resume).
  RoundDriver(asio::io_context& io, RoundDriverOptions options, Engine& engine, Transport& transport,
              Strategy& strategy, RoundWorker& worker, std::vector<float> global, std::uint64_t last_round);
  ~RoundDriver();
  RoundDriver(const RoundDriver&) = delete;
  RoundDriver& operator=(const RoundDriver&) = delete;

  void Start();  // the first round starts at once
  void Stop();   // idempotent; replies still in flight are ignored

  RoundStats Stats() const;
  const std::vector<float>& global() const { return global_; }

 private:
  struct Pending {
    std::string address;
    std::string name;  // id, or address if unknown
  };

  void StartRound();
  void SendRequest(const PeerPlan& plan);
  void TrainLocally(const PeerPlan& plan);
  // `reference`: what a reply in int4-delta is a difference from; null if none was asked for.
  void OnReply(std::uint64_t attempt, const std::string& address, Status status, Frame reply,
               const std::vector<float>* reference);
  void Settle(std::uint64_t attempt, const std::string& address, Result<RoundResult> result);
  void CheckHeartbeats();
  void FinishRound();
  void ScheduleRound(std::chrono::milliseconds delay);
  std::vector<RoundCandidate> LiveCandidates() const;
  // Arms `timer` to call `on_expiry` after `delay` unless cancelled or the driver stopped.
  void Arm(Timer& timer, std::chrono::milliseconds delay, std::function<void()> on_expiry);

  asio::io_context& io_;
  const RoundDriverOptions options_;
  Engine& engine_;
  Transport& transport_;
  Strategy& strategy_;
  RoundWorker& worker_;
  std::vector<float> global_;
  std::uint64_t round_;        // the round being run (last completed + 1)
  std::uint64_t attempt_ = 0;  // increases with every start, so stale replies are told apart
  Timer round_timer_;     // next round / deadline
  Timer heartbeat_timer_;
  std::shared_ptr<int> alive_token_ = std::make_shared<int>(0);
  bool running_ = false;       // a round is collecting replies
  Clock::time_point round_start_;
  std::vector<Pending> pending_;
  std::vector<RoundResult> ok_;
  std::vector<RoundFailure> failed_;
  std::uint64_t slowest_train_ms_ = 0;
  std::uint64_t completed_since_start_ = 0;
  std::map<std::string, std::string> names_;  // address -> node id, from replies (static peers have no id)
  RoundStats stats_;        // but rejected_*, which are reply_screen_'s
  MergePolicy reply_screen_;  // Screen only
};

}  // namespace gl::gossip

#include "gossip/rounds/round_driver.h"

#include <algorithm>
#include <sstream>
#include <utility>

#include "common/log.h"
#include "gossip/wire/codec.h"
#include "gossip/wire/model_codec.h"
#include "gossip/merge/peer_key.h"

namespace gl::gossip {
namespace {
constexpr const char* kLog = "round";

std::string Join(const std::vector<std::string>& names) {
  std::ostringstream out;
  for (std::size_t i = 0; i < names.size(); ++i) out << (i ? ", " : "") << names[i];
  return out.str();
}
}  // namespace

RoundDriver::RoundDriver(asio::io_context& io, RoundDriverOptions options, Engine& engine, Transport& transport,
                         Strategy& strategy, RoundWorker& worker, std::vector<float> global,
                         std::uint64_t last_round)
    : io_(io),
      options_(std::move(options)),
      engine_(engine),
      transport_(transport),
      strategy_(strategy),
      worker_(worker),
      global_(std::move(global)),
      round_(last_round + 1),
      round_timer_(io),
      heartbeat_timer_(io),
      // Replies start from the global model they were sent and do not drift for long: the
      // absolute bound alone, no share of the model's norm.
      reply_screen_(MergePolicyOptions::ScreenOnly(options_.max_update_norm, 0)) {
  stats_.round = last_round;
  stats_.strategy = strategy_.Summary();
}

RoundDriver::~RoundDriver() { Stop(); }

RoundStats RoundDriver::Stats() const {
  RoundStats stats = stats_;
  stats.rejected_replies = reply_screen_.stats().refused();
  stats.rejected_by_peer = reply_screen_.stats().refused_by_peer;
  return stats;
}

void RoundDriver::Start() {
  GL_LOG(kInfo, kLog) << "coordinator " << options_.node_id << ": " << stats_.strategy << ", starting at round "
                      << round_;
  ScheduleRound(std::chrono::milliseconds(0));
}

void RoundDriver::Stop() {
  if (!alive_token_) return;
  alive_token_.reset();
  round_timer_.cancel();
  heartbeat_timer_.cancel();
}

void RoundDriver::Arm(Timer& timer, std::chrono::milliseconds delay, std::function<void()> on_expiry) {
  timer.expires_after(delay);
  timer.async_wait([token = std::weak_ptr<int>(alive_token_), on_expiry = std::move(on_expiry)](
                       const std::error_code& ec) {
    if (!ec && !token.expired()) on_expiry();
  });
}

void RoundDriver::ScheduleRound(std::chrono::milliseconds delay) {
  Arm(round_timer_, delay, [this] { StartRound(); });
}

std::vector<RoundCandidate> RoundDriver::LiveCandidates() const {
  std::vector<RoundCandidate> live;
  for (const PeerStatus& peer : engine_.Peers()) {
    if (peer.state == PeerState::kAlive) live.push_back(RoundCandidate{peer.address, peer.id});
  }
  if (options_.coordinator_trains) live.push_back(RoundCandidate{options_.listen_address, options_.node_id});
  return live;
}

void RoundDriver::StartRound() {
  const std::vector<PeerPlan> plans = strategy_.ConfigureRound(round_, LiveCandidates());
  if (plans.size() < options_.min_nodes) {
    GL_LOG(kInfo, kLog) << "round " << round_ << " waits: " << plans.size() << " participant(s) available, "
                        << options_.min_nodes << " needed";
    return ScheduleRound(options_.retry_delay);
  }
  ++attempt_;
  running_ = true;
  round_start_ = Clock::now();
  pending_.clear();
  ok_.clear();
  failed_.clear();
  slowest_train_ms_ = 0;
  for (const PeerPlan& plan : plans) {
    auto known = names_.find(plan.address);
    const std::string name = !plan.id.empty() ? plan.id : known != names_.end() ? known->second : plan.address;
    pending_.push_back(Pending{plan.address, name});
  }
  GL_LOG(kDebug, kLog) << "round " << round_ << " starts with " << plans.size() << " participant(s)";
  for (const PeerPlan& plan : plans) {
    if (options_.coordinator_trains && plan.address == options_.listen_address) {
      TrainLocally(plan);
    } else {
      SendRequest(plan);
    }
  }
  Arm(round_timer_, options_.round_deadline, [this, attempt = attempt_] {
    if (attempt != attempt_ || !running_) return;
    for (const Pending& p : pending_) {
      GL_LOG(kWarn, kLog) << "round " << round_ << ": " << p.name << " missed the deadline of "
                          << options_.round_deadline.count() << " ms";
      failed_.push_back(RoundFailure{p.name, Status::Timeout("missed the round deadline")});
    }
    pending_.clear();
    FinishRound();
  });
  Arm(heartbeat_timer_, options_.heartbeat_check, [this] { CheckHeartbeats(); });
}

void RoundDriver::SendRequest(const PeerPlan& plan) {
  // The request goes in the codec negotiated by Hello; a coordinator does not gossip, so a
  // participant it has not said Hello to yet gets one first. It leaves when the node's upload
  // budget allows: a round's requests then go out one budget's worth at a time.
  engine_.SayHello(plan.address, [this, plan, attempt = attempt_, token = std::weak_ptr<int>(alive_token_)] {
    if (token.expired() || attempt != attempt_ || !running_) return;
    const bool sgd = plan.config.optimizer == LocalOptimizer::kSgd;
    if (sgd && !engine_.HelloAnswered(plan.address)) {
      return Settle(attempt, plan.address, Status::Unavailable("no Hello answer yet: it cannot be asked for sgd"));
    }
    if (sgd && !engine_.TrainsWithSgd(plan.address)) {
      return Settle(attempt, plan.address,
                    Status::Rejected("its build cannot train with sgd: upgrade it, or set client_optimizer = \"adam\""));
    }
    const bool difference = engine_.TakesRoundDifferences(plan.address);
    RoundRequest request{options_.node_id,
                         options_.listen_address,
                         round_,
                         ModelSnapshot{options_.signature, global_, round_, 0},
                         plan.config.epochs,
                         plan.config.batch_size,
                         plan.config.learning_rate,
                         // An SGD round's update is far smaller than a codec's rounding of the whole
                         // model: it comes back exact (fp32) unless it can come as a difference.
                         sgd && !difference ? ModelCodec::kFp32 : engine_.CodecFor(plan.address)};
    request.optimizer = plan.config.optimizer;
    // The reply as a difference from the global model as the participant decodes it; it is
    // added back to the exact global model, so the request codec's rounding of the global
    // model never enters the aggregate.
    std::shared_ptr<const std::vector<float>> reference;
    if (difference) {
      request.reply_codec = ModelCodec::kInt4Delta;
      reference = std::make_shared<const std::vector<float>>(global_);
    }
    Frame frame = EncodeMessage(request);
    const std::uint64_t bytes = kFrameHeaderSize + frame.body.size();
    engine_.WhenUploadAllows(bytes, [this, attempt, address = plan.address, token, reference,
                                     frame = std::move(frame)]() mutable {
      if (token.expired() || attempt != attempt_ || !running_) return;
      transport_.Request(address, std::move(frame), options_.round_deadline,
                         [this, attempt, address, token, reference](Status status, Frame reply) {
                           if (!token.expired()) {
                             OnReply(attempt, address, std::move(status), std::move(reply), reference.get());
                           }
                         });
    });
  });
}

void RoundDriver::TrainLocally(const PeerPlan& plan) {
  worker_.Train(round_, global_, plan.config,
                [this, attempt = attempt_, address = plan.address,
                 token = std::weak_ptr<int>(alive_token_)](Result<LocalTraining> trained) mutable {
                  asio::post(io_, [this, attempt, address, token, trained = std::move(trained)]() mutable {
                    if (token.expired()) return;
                    if (!trained.ok()) return Settle(attempt, address, trained.status());
                    slowest_train_ms_ = std::max(slowest_train_ms_, trained->train_ms);
                    Settle(attempt, address,
                           RoundResult{options_.node_id, std::move(trained->params), trained->samples});
                  });
                });
}

void RoundDriver::OnReply(std::uint64_t attempt, const std::string& address, Status status, Frame reply,
                          const std::vector<float>* reference) {
  if (!status.ok()) return Settle(attempt, address, status);
  if (reply.type == MessageType::kError) {
    Result<Error> error = DecodeMessage<Error>(reply);
    return Settle(attempt, address, Status::Rejected(error.ok() ? error->reason : error.status().message()));
  }
  Result<RoundReply> decoded = DecodeMessage<RoundReply>(reply);
  if (!decoded.ok()) return Settle(attempt, address, decoded.status());
  if (Status accepted = engine_.CheckAccepted(decoded->codec); !accepted.ok()) return Settle(attempt, address, accepted);
  if (decoded->codec == ModelCodec::kInt4Delta) {
    if (Status whole = AddBackReference(decoded->model.params, reference); !whole.ok()) {
      return Settle(attempt, address, whole);
    }
  }
  if (decoded->round != round_) {
    return Settle(attempt, address, Status::Rejected("reply for round " + std::to_string(decoded->round)));
  }
  if (Status valid = reply_screen_.Screen(PeerKey(decoded->sender_id, address), decoded->model, options_.signature,
                                         global_);
      !valid.ok()) {
    return Settle(attempt, address, valid);  // logs the reason
  }
  names_[address] = decoded->sender_id;
  if (attempt == attempt_) slowest_train_ms_ = std::max(slowest_train_ms_, decoded->train_ms);
  Settle(attempt, address,
         RoundResult{decoded->sender_id, std::move(decoded->model.params), decoded->model.local_samples});
}

void RoundDriver::Settle(std::uint64_t attempt, const std::string& address, Result<RoundResult> result) {
  if (attempt != attempt_ || !running_) return;  // a late answer to a finished round
  auto it = std::find_if(pending_.begin(), pending_.end(), [&](const Pending& p) { return p.address == address; });
  if (it == pending_.end()) return;
  const std::string name = it->name;
  pending_.erase(it);
  if (result.ok()) {
    ok_.push_back(std::move(result).value());
  } else {
    GL_LOG(kWarn, kLog) << "round " << round_ << ": " << name << " left out: " << result.status().ToString();
    failed_.push_back(RoundFailure{name, result.status()});
  }
  if (pending_.empty()) FinishRound();
}

void RoundDriver::CheckHeartbeats() {
  if (!running_) return;
  std::vector<std::string> dead;
  for (const PeerStatus& peer : engine_.Peers()) {
    if (peer.state == PeerState::kDead) dead.push_back(peer.address);
  }
  for (const std::string& address : dead) {
    Settle(attempt_, address, Status::Unavailable("no heartbeat: its probes failed"));
  }
  if (running_) Arm(heartbeat_timer_, options_.heartbeat_check, [this] { CheckHeartbeats(); });
}

void RoundDriver::FinishRound() {
  running_ = false;
  round_timer_.cancel();
  heartbeat_timer_.cancel();
  std::vector<std::string> dropped;
  for (const RoundFailure& f : failed_) dropped.push_back(f.peer);
  stats_.dropped_total += dropped.size();
  if (ok_.size() < options_.min_nodes) {
    ++stats_.rounds_retried;
    GL_LOG(kWarn, kLog) << "round " << round_ << " incomplete: " << ok_.size() << " of " << options_.min_nodes
                        << " needed replies (dropped: " << Join(dropped) << "); retrying";
    return ScheduleRound(options_.retry_delay);
  }
  std::optional<std::vector<float>> next = strategy_.Aggregate(round_, global_, ok_, failed_);
  if (next) global_ = std::move(*next);
  const double round_ms = std::chrono::duration<double, std::milli>(Clock::now() - round_start_).count();
  stats_.round = round_;
  stats_.participants.clear();
  for (const RoundResult& r : ok_) stats_.participants.push_back(r.peer);
  stats_.dropped = dropped;
  stats_.last_round_ms = round_ms;
  stats_.last_overhead_ms = std::max(0.0, round_ms - static_cast<double>(slowest_train_ms_));
  ++completed_since_start_;
  stats_.mean_overhead_ms += (stats_.last_overhead_ms - stats_.mean_overhead_ms) / completed_since_start_;
  GL_LOG(kInfo, kLog) << "round " << round_ << " done in " << static_cast<long>(round_ms) << " ms (overhead "
                      << static_cast<long>(stats_.last_overhead_ms) << " ms): " << Join(stats_.participants)
                      << (dropped.empty() ? "" : "; dropped " + Join(dropped));
  worker_.PublishGlobal(round_, global_, strategy_.ServerState());
  ++round_;
  ScheduleRound(std::chrono::milliseconds(0));
}

}  // namespace gl::gossip

#include "gossip/round_participant.h"

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "gossip/codec.h"
#include "gossip/merge.h"

namespace gl::gossip {
namespace {
constexpr const char* kLog = "round";
using std::chrono::milliseconds;
}  // namespace

RoundParticipant::RoundParticipant(asio::io_context& io, ParticipantOptions options, Engine& engine,
                                   RoundWorker& worker)
    : io_(io), options_(std::move(options)), engine_(engine), worker_(worker), check_timer_(io) {}

RoundParticipant::~RoundParticipant() { Stop(); }

void RoundParticipant::Start() {
  engine_.SetRoundHandler([this, token = std::weak_ptr<int>(alive_token_)](
                              const std::string& from, Frame request, Transport::Respond respond) {
    if (!token.expired()) OnRequest(from, std::move(request), std::move(respond));
  });
  engine_.SetCoordinatorObserver([this, token = std::weak_ptr<int>(alive_token_)](const std::string& id,
                                                                                 const std::string& address) {
    if (!token.expired()) NoteCoordinator(id, address);
  });
  ScheduleCheck();
}

void RoundParticipant::Stop() {
  if (!alive_token_) return;
  alive_token_.reset();
  check_timer_.cancel();
}

ParticipantStats RoundParticipant::Stats() const { return stats_; }

void RoundParticipant::NoteCoordinator(const std::string& id, const std::string& address) {
  if (!id.empty() && id != options_.node_id) Hear(id, address);
}

void RoundParticipant::OnRequest(const std::string& from, Frame request, Transport::Respond respond) {
  Result<RoundRequest> decoded = DecodeMessage<RoundRequest>(request);
  if (!decoded.ok()) {
    GL_LOG(kWarn, kLog) << "malformed round request from " << from << ": " << decoded.status().message();
    return respond(EncodeMessage(Error{decoded.status().message()}));
  }
  RoundRequest& req = *decoded;
  if (Status valid = ValidateRemote(req.model, options_.signature, options_.param_count); !valid.ok()) {
    ++stats_.requests_refused;
    GL_LOG(kWarn, kLog) << "round " << req.round << " from " << req.coordinator_id << " refused: " << valid.message();
    return respond(EncodeMessage(Error{valid.message()}));
  }
  if (!Hear(req.coordinator_id, req.coordinator_address)) {
    ++stats_.requests_refused;
    return respond(EncodeMessage(Error{"following coordinator " + Followed()->id}));
  }
  last_global_ = req.model.params;
  const RoundConfig config{req.epochs, req.batch_size, req.learning_rate};
  GL_LOG(kDebug, kLog) << "round " << req.round << " from " << req.coordinator_id << ": training " << config.epochs
                       << " epoch(s)";
  const std::uint64_t round = req.round;
  worker_.Train(round, std::move(req.model.params), config,
                [this, round, respond = std::move(respond), token = std::weak_ptr<int>(alive_token_)](
                    Result<LocalTraining> trained) mutable {
                  asio::post(io_, [this, round, respond = std::move(respond), token,
                                   trained = std::move(trained)]() mutable {
                    if (!token.expired()) OnTrained(round, std::move(trained), respond);
                  });
                });
}

void RoundParticipant::OnTrained(std::uint64_t round, Result<LocalTraining> trained, const Transport::Respond& respond) {
  if (!trained.ok()) {
    GL_LOG(kWarn, kLog) << "round " << round << " not served: " << trained.status().ToString();
    return respond(EncodeMessage(Error{trained.status().message()}));
  }
  LocalTraining& t = trained.value();
  ++stats_.rounds_served;
  stats_.last_round_served = std::max(stats_.last_round_served, round);
  RoundReply reply{options_.node_id, round, ModelSnapshot{options_.signature, std::move(t.params), 0, t.samples},
                   t.train_ms};
  respond(EncodeMessage(reply));
}

bool RoundParticipant::Hear(const std::string& id, const std::string& address) {
  const Clock::time_point now = Clock::now();
  auto it = std::find_if(coordinators_.begin(), coordinators_.end(), [&](const Coordinator& c) { return c.id == id; });
  if (it == coordinators_.end()) {
    coordinators_.push_back(Coordinator{id, address, now});
    engine_.AddPeer(address, "coordinator", id);  // so that the engine's probes show its liveness
    GL_LOG(kInfo, kLog) << "coordinator " << id << " at " << address << " is live";
  } else {
    it->address = address;
    it->last_heard = now;
  }
  const Coordinator* followed = Followed();
  for (const Coordinator& other : coordinators_) {
    if (other.id == followed->id) continue;
    if (conflicts_logged_.insert(followed->id + "|" + other.id).second) {
      GL_LOG(kError, kLog) << "SECOND COORDINATOR in the cluster: " << followed->id << " at " << followed->address
                           << " and " << other.id << " at " << other.address << "; following " << followed->id
                           << " (smallest id). Run one coordinator per cluster.";
    }
  }
  stats_.coordinator = followed->id;
  SetFederated(true);
  return followed->id == id;
}

const RoundParticipant::Coordinator* RoundParticipant::Followed() const {
  auto it = std::min_element(coordinators_.begin(), coordinators_.end(),
                             [](const Coordinator& a, const Coordinator& b) { return a.id < b.id; });
  return it == coordinators_.end() ? nullptr : &*it;
}

void RoundParticipant::ForgetSilent() {
  const Clock::time_point now = Clock::now();
  for (const PeerStatus& peer : engine_.Peers()) {
    if (peer.last_seen_s < 0) continue;
    for (Coordinator& c : coordinators_) {
      if (c.address != peer.address) continue;
      const auto seen = now - std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(peer.last_seen_s));
      c.last_heard = std::max(c.last_heard, seen);
    }
  }
  std::erase_if(coordinators_, [&](const Coordinator& c) {
    const bool silent = now - c.last_heard > options_.failover_timeout;
    if (silent) {
      GL_LOG(kWarn, kLog) << "coordinator " << c.id << " at " << c.address << " silent for more than "
                          << options_.failover_timeout.count() << " ms";
    }
    return silent;
  });
}

void RoundParticipant::CheckCoordinators() {
  ForgetSilent();
  const Coordinator* followed = Followed();
  stats_.coordinator = followed ? followed->id : "";
  if (followed == nullptr) SetFederated(false);
}

void RoundParticipant::ScheduleCheck() {
  const milliseconds period = std::clamp(options_.failover_timeout / 10, milliseconds(100), milliseconds(1000));
  check_timer_.expires_after(period);
  check_timer_.async_wait([this, token = std::weak_ptr<int>(alive_token_)](const std::error_code& ec) {
    if (ec || token.expired()) return;
    CheckCoordinators();
    ScheduleCheck();
  });
}

void RoundParticipant::SetFederated(bool federated) {
  if (stats_.federated == federated) return;
  stats_.federated = federated;
  engine_.SetGossipPaused(federated);
  worker_.SetFederated(federated, last_global_);
  if (federated) {
    GL_LOG(kInfo, kLog) << "federated mode: serving coordinator " << stats_.coordinator << ", gossip paused";
  } else {
    GL_LOG(kWarn, kLog) << "no live coordinator: back to gossip from the last global model (round "
                        << stats_.last_round_served << ")";
  }
}

}  // namespace gl::gossip

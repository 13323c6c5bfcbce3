#include "gossip/rounds/round_participant.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include "common/host_port.h"
#include "common/log.h"
#include "gossip/merge/peer_key.h"
#include "gossip/wire/codec.h"
#include "gossip/wire/model_codec.h"

namespace gl::gossip {
namespace {
constexpr const char* kLog = "round";
using std::chrono::milliseconds;

// Whether a request from `from` ("host:port") may come from the peer at `peer_address`: from
// its host, when that is a literal IP (a host name may resolve to any of several addresses).
bool MayComeFrom(const std::string& peer_address, const std::string& from) {
  const std::string host = HostOf(peer_address);
  std::error_code not_an_ip;
  asio::ip::make_address(host, not_an_ip);
  return not_an_ip || host == HostOf(from);
}
}  // namespace

Status ValidateRoundRequest(const RoundRequest& request) {
  if (request.coordinator_id.empty()) return Status::InvalidArgument("round request without a coordinator id");
  if (request.epochs < 1 || request.epochs > kMaxRoundEpochs) {
    return Status::InvalidArgument("round epochs " + std::to_string(request.epochs) + " not in [1, " +
                                   std::to_string(kMaxRoundEpochs) + "]");
  }
  if (request.batch_size < 1 || request.batch_size > kMaxRoundBatchSize) {
    return Status::InvalidArgument("round batch size " + std::to_string(request.batch_size) + " not in [1, " +
                                   std::to_string(kMaxRoundBatchSize) + "]");
  }
  const float lr = request.learning_rate;
  if (!(std::isfinite(lr) && lr > 0 && lr < kMaxRoundLearningRate)) {
    return Status::InvalidArgument("round learning rate " + std::to_string(lr) + " not a number in (0, " +
                                   std::to_string(kMaxRoundLearningRate) + ")");
  }
  return Status::Ok();
}

RoundParticipant::RoundParticipant(asio::io_context& io, ParticipantOptions options, Engine& engine,
                                   RoundWorker& worker)
    : io_(io),
      options_(std::move(options)),
      engine_(engine),
      worker_(worker),
      check_timer_(io),
      round_screen_(
          MergePolicyOptions::ScreenOnly(options_.max_update_norm, MergePolicyOptions().update_to_model_norm)) {}

RoundParticipant::~RoundParticipant() { Stop(); }

void RoundParticipant::Start() {
  engine_.SetRoundHandler([this, token = std::weak_ptr<int>(alive_token_)](
                              const std::string& from, Frame request, Transport::Respond respond) {
    if (!token.expired()) OnRequest(from, std::move(request), std::move(respond));
  });
  ScheduleCheck();
}

void RoundParticipant::Stop() {
  if (!alive_token_) return;
  alive_token_.reset();
  check_timer_.cancel();
}

ParticipantStats RoundParticipant::Stats() const { return stats_; }

void RoundParticipant::OnRequest(const std::string& from, Frame request, Transport::Respond respond) {
  // A served round is answered only after local training: the coordinator waits that long.
  respond.ExpectReplyWithin(options_.reply_deadline);
  Result<RoundRequest> decoded = DecodeMessage<RoundRequest>(request);
  if (!decoded.ok()) return Refuse(from, decoded.status(), respond);
  if (Status valid = ValidateRoundRequest(*decoded); !valid.ok()) return Refuse(from, valid, respond);
  if (Status accepted = engine_.CheckAccepted(decoded->codec); !accepted.ok()) return Refuse(from, accepted, respond);
  Serve(from, std::move(decoded).value(), std::move(respond), /*may_wait=*/true);
}

void RoundParticipant::Serve(const std::string& from, RoundRequest req, Transport::Respond respond, bool may_wait) {
  Result<std::string> address = VerifiedCoordinator(req.coordinator_id, from);
  if (!address.ok()) {
    const std::vector<std::string> candidates = Candidates(req.coordinator_id);
    if (!may_wait || candidates.empty() || waiting_ >= kMaxWaitingRequests) {
      return Refuse(from, address.status(), respond);
    }
    // Held until the candidates answered a Hello, then decided on what they said.
    ++waiting_;
    auto held = std::make_shared<WaitingRequest>(WaitingRequest{from, std::move(req), std::move(respond),
                                                                candidates.size()});
    for (const std::string& candidate : candidates) {
      engine_.SayHello(candidate, [this, held, token = std::weak_ptr<int>(alive_token_)] {
        if (token.expired() || --held->hellos_left > 0) return;
        --waiting_;
        Serve(held->from, std::move(held->request), std::move(held->respond), /*may_wait=*/false);
      });
    }
    return;
  }
  // The round's model replaces the local one: it passes the same screen as a gossip offer.
  if (Status screened = round_screen_.Screen(PeerKey(req.coordinator_id, from), req.model, options_.signature,
                                             engine_.LocalModel().params);
      !screened.ok()) {
    return Refuse(from, screened, respond);
  }
  if (!HearRound(req.coordinator_id, *address)) {
    return Refuse(from, Status::Rejected("following coordinator " + Followed()->id), respond);
  }
  last_global_ = req.model.params;
  ++Find(req.coordinator_id)->rounds_training;
  const RoundConfig config{req.epochs, req.batch_size, req.learning_rate, req.optimizer};
  GL_LOG(kDebug, kLog) << "round " << req.round << " from " << req.coordinator_id << ": training " << config.epochs
                       << " epoch(s)";
  const std::uint64_t round = req.round;
  const ReplyFormat format{req.codec, req.reply_codec == ModelCodec::kInt4Delta &&
                                              engine_.CheckAccepted(ModelCodec::kInt4Delta).ok()
                                          ? std::make_shared<const std::vector<float>>(req.model.params)
                                          : nullptr};
  worker_.Train(round, std::move(req.model.params), config,
                [this, coordinator = req.coordinator_id, round, format, respond = std::move(respond),
                 token = std::weak_ptr<int>(alive_token_)](Result<LocalTraining> trained) mutable {
                  asio::post(io_, [this, coordinator = std::move(coordinator), round, format, respond = std::move(respond),
                                   token, trained = std::move(trained)]() mutable {
                    if (!token.expired()) OnTrained(coordinator, round, format, std::move(trained), respond);
                  });
                });
}

void RoundParticipant::Refuse(const std::string& from, const Status& why, const Transport::Respond& respond) {
  ++stats_.requests_refused;
  std::uint64_t suppressed = 0;
  if (refusals_log_gate_.ShouldLog(HostOf(from), Clock::now(), suppressed)) {
    GL_LOG(kWarn, kLog) << "round request from " << from << " refused: " << why.message()
                        << (suppressed > 0 ? " (+" + std::to_string(suppressed) + " like it not logged)" : "");
  }
  respond(EncodeMessage(Error{why.message()}));
}

Result<std::string> RoundParticipant::VerifiedCoordinator(const std::string& id, const std::string& from) const {
  for (const PeerStatus& peer : engine_.Peers()) {
    if (peer.id != id || peer.role != "coordinator" || peer.state == PeerState::kIncompatible) continue;
    if (!MayComeFrom(peer.address, from)) {
      return Status::Rejected("a request for coordinator " + id + " must come from its host (" + peer.address + ")");
    }
    return peer.address;
  }
  return Status::Rejected("coordinator " + id +
                          " is not a known peer that answered Hello as a coordinator; a coordinator must be a static "
                          "peer (--peers) or discovered");
}

std::vector<std::string> RoundParticipant::Candidates(const std::string& id) const {
  std::vector<std::string> candidates;
  for (const PeerStatus& peer : engine_.Peers()) {
    if (!peer.handshaken && (peer.id == id || peer.id.empty())) candidates.push_back(peer.address);
  }
  return candidates;
}

void RoundParticipant::OnTrained(const std::string& coordinator, std::uint64_t round, const ReplyFormat& format,
                                 Result<LocalTraining> trained, const Transport::Respond& respond) {
  if (KnownCoordinator* c = Find(coordinator)) {
    --c->rounds_training;
    c->last_round = Clock::now();
  }
  if (!trained.ok()) {
    GL_LOG(kWarn, kLog) << "round " << round << " not served: " << trained.status().ToString();
    return respond(EncodeMessage(Error{trained.status().message()}));
  }
  LocalTraining& t = trained.value();
  ++stats_.rounds_served;
  stats_.last_round_served = std::max(stats_.last_round_served, round);
  RoundReply reply{options_.node_id, round, ModelSnapshot{options_.signature, std::move(t.params), 0, t.samples},
                   t.train_ms, format.codec};
  if (format.reference) {
    if (std::optional<std::vector<float>> difference = DifferenceFrom(reply.model.params, *format.reference)) {
      reply.model.params = std::move(*difference);
      reply.codec = ModelCodec::kInt4Delta;
    }
  }
  respond(EncodeMessage(reply));
}

bool RoundParticipant::HearRound(const std::string& id, const std::string& address) {
  if (KnownCoordinator* known = Find(id)) {
    known->address = address;
    known->last_round = Clock::now();
  } else {
    coordinators_.push_back(KnownCoordinator{id, address, Clock::now()});
    GL_LOG(kInfo, kLog) << "coordinator " << id << " at " << address << " runs rounds";
  }
  const KnownCoordinator* followed = Followed();
  for (const KnownCoordinator& other : coordinators_) {
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

RoundParticipant::KnownCoordinator* RoundParticipant::Find(const std::string& id) {
  auto it = std::find_if(coordinators_.begin(), coordinators_.end(), [&](const KnownCoordinator& c) { return c.id == id; });
  return it == coordinators_.end() ? nullptr : &*it;
}

const RoundParticipant::KnownCoordinator* RoundParticipant::Followed() const {
  auto it = std::min_element(coordinators_.begin(), coordinators_.end(),
                             [](const KnownCoordinator& a, const KnownCoordinator& b) { return a.id < b.id; });
  return it == coordinators_.end() ? nullptr : &*it;
}

void RoundParticipant::ForgetSilent() {
  const Clock::time_point now = Clock::now();
  // While one of its rounds trains here, a coordinator's probe answers show it is still there.
  for (KnownCoordinator& c : coordinators_) {
    if (c.rounds_training == 0) continue;
    if (const std::optional<Clock::time_point> seen = engine_.LastSeen(c.address)) {
      c.last_round = std::max(c.last_round, *seen);
    }
  }
  std::erase_if(coordinators_, [&](const KnownCoordinator& c) {
    const bool silent = now - c.last_round > options_.failover_timeout;
    if (silent) {
      GL_LOG(kWarn, kLog) << "coordinator " << c.id << " at " << c.address << " ran no round for more than "
                          << options_.failover_timeout.count() << " ms";
    }
    return silent;
  });
}

void RoundParticipant::CheckCoordinators() {
  ForgetSilent();
  const KnownCoordinator* followed = Followed();
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
    GL_LOG(kWarn, kLog) << "no coordinator running rounds: back to gossip from the last global model (round "
                        << stats_.last_round_served << ")";
  }
}

}  // namespace gl::gossip

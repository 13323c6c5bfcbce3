#include "gossip/engine.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "common/log.h"
#include "gossip/wire/codec.h"
#include "gossip/merge/merge.h"
#include "gossip/merge/peer_key.h"
#include "gossip/wire/model_codec.h"

namespace gl::gossip {
namespace {
constexpr const char* kLog = "gossip";
// Transfers in flight at once when pushing: reactive sends may overlap a proactive one.
constexpr int kMaxPushesInFlight = 3;
// A reactive send waits this share of the gossip interval: Offer only queues the received
// model for the training thread, which merges it between minibatches, so sending at once
// would pass on the model as it was before the merge.
constexpr double kReactiveDelayShare = 0.1;

PeerTableConfig TableConfig(const Options& options) {
  return PeerTableConfig{options.dead_after_failures, options.retry_backoff_base, options.retry_backoff_max};
}
}  // namespace

Engine::Engine(asio::io_context& io, Options options, Transport& transport, ModelStore& store)
    : options_(std::move(options)),
      transport_(transport),
      store_(store),
      table_(TableConfig(options_)),
      rng_(options_.seed != 0 ? options_.seed : std::random_device{}() ^ std::hash<std::string>{}(options_.node_id)),
      gossip_timer_(io),
      probe_timer_(io),
      reactive_timer_(io),
      upload_timer_(io),
      tokens_(options_.token_capacity, options_.token_reactivity),
      upload_budget_(options_.max_upload_kbps) {}

Engine::~Engine() { Stop(); }

Status Engine::Start() {
  if (started_) return Status::InvalidArgument("gossip engine already started");
  if (Status valid = options_.Validate(); !valid.ok()) return valid;
  started_ = true;
  const ModelSnapshot model = store_.Snapshot();
  signature_ = model.signature;
  param_count_ = model.params.size();
  transport_.Listen(Guarded([this](const std::string& from, Frame request, Transport::Respond respond) {
    OnRequest(from, std::move(request), std::move(respond));
  }));
  // Random first delays, so that nodes booted together do not gossip in lockstep.
  if (options_.gossip_interval.count() > 0) {
    ScheduleGossip(std::chrono::milliseconds(
        std::uniform_int_distribution<std::int64_t>(0, options_.gossip_interval.count())(rng_)));
  }
  if (options_.probe_interval.count() > 0) {
    ScheduleProbe(std::chrono::milliseconds(
        std::uniform_int_distribution<std::int64_t>(0, options_.probe_interval.count())(rng_)));
  }
  GL_LOG(kInfo, kLog) << "gossip engine " << options_.node_id << " listening on " << transport_.LocalAddress()
                      << ", model " << signature_ << " (" << param_count_ << " parameters)";
  return Status::Ok();
}

void Engine::Stop() {
  if (stopped_) return;
  stopped_ = true;
  alive_token_.reset();
  gossip_timer_.cancel();
  probe_timer_.cancel();
  reactive_timer_.cancel();
  upload_timer_.cancel();
  queued_uploads_.clear();
  transport_.Shutdown();
}

void Engine::WhenUploadAllows(std::uint64_t bytes, std::function<void()> send) {
  if (stopped_) return;
  queued_uploads_.emplace_back(bytes, std::move(send));
  if (queued_uploads_.size() == 1) SendQueuedUploads();
}

void Engine::SendQueuedUploads() {
  upload_budget_.Observe(Now(), transport_.Stats().bytes_sent);
  while (!queued_uploads_.empty()) {
    const Clock::duration wait = upload_budget_.WaitFor(Now(), queued_uploads_.front().first);
    if (wait > Clock::duration::zero()) {
      upload_timer_.expires_after(wait);
      upload_timer_.async_wait(Guarded([this](const std::error_code& ec) {
        if (!ec) SendQueuedUploads();
      }));
      return;
    }
    auto [bytes, send] = std::move(queued_uploads_.front());
    queued_uploads_.pop_front();
    upload_budget_.Reserve(Now(), bytes);
    send();
  }
}

void Engine::AddPeer(const std::string& address, const std::string& source, const std::string& id_hint) {
  const bool was_dead = table_.Find(address) != nullptr && table_.Find(address)->state == PeerState::kDead;
  if (table_.Add(address, source, id_hint, Now())) {
    GL_LOG(kInfo, kLog) << "peer " << address << " added (" << source << ")";
  } else if (was_dead && table_.Find(address)->state == PeerState::kAlive) {
    GL_LOG(kInfo, kLog) << "peer " << address << " re-admitted after a fresh " << source << " announcement";
  }
}

void Engine::RemovePeer(const std::string& address, const std::string& source) {
  if (table_.Remove(address, source)) {
    last_hello_asked_.erase(address);
    peer_codecs_.erase(address);
    peer_features_.erase(address);
    difference_peers_.erase(address);
    GL_LOG(kInfo, kLog) << "peer " << address << " removed (" << source << ")";
  }
}

std::vector<PeerStatus> Engine::Peers() const {
  const TimePoint now = Now();
  std::vector<PeerStatus> result;
  for (const auto& [address, peer] : table_.peers()) {
    const std::string codec = CodecName(CodecFor(address));
    PeerStatus status{peer.id, address, peer.state, peer.role,
                      std::vector<std::string>(peer.sources.begin(), peer.sources.end()),
                      peer.handshaken, -1, peer.exchanges, peer.failures, codec,
                      difference_peers_.count(address) != 0 ? CodecName(ModelCodec::kInt4Delta) : codec,
                      SendsPushes(address) ? "push" : "push-pull"};
    if (peer.last_seen) status.last_seen_s = std::chrono::duration<double>(now - *peer.last_seen).count();
    result.push_back(std::move(status));
  }
  return result;
}

std::optional<PeerTable::TimePoint> Engine::LastSeen(const std::string& address) const {
  const auto it = table_.peers().find(address);
  return it == table_.peers().end() ? std::nullopt : it->second.last_seen;
}

EngineStats Engine::Stats() const {
  EngineStats stats = counters_;
  const TransportStats transport = transport_.Stats();
  stats.bytes_sent = transport.bytes_sent;
  stats.bytes_received = transport.bytes_received;
  stats.frames_rejected += transport.frames_rejected;
  stats.upload_bytes_per_s = upload_budget_.BytesPerSecond(Now());
  stats.tokens = tokens_.balance();
  return stats;
}

void Engine::ScheduleGossip(std::chrono::milliseconds delay) {
  gossip_timer_.expires_after(delay);
  gossip_timer_.async_wait(Guarded([this](const std::error_code& ec) {
    if (!ec) OnGossipTimer();
  }));
}

void Engine::ScheduleProbe(std::chrono::milliseconds delay) {
  probe_timer_.expires_after(delay);
  WaitForProbe();
}

void Engine::WaitForProbe() {
  probe_timer_.async_wait(Guarded([this](const std::error_code& ec) {
    if (!ec) OnProbeTimer();
  }));
}

void Engine::OnGossipTimer() {
  const double jitter = std::uniform_real_distribution<double>(-options_.gossip_jitter, options_.gossip_jitter)(rng_);
  const double interval_ms = static_cast<double>(options_.gossip_interval.count()) * interval_stretch_.load();
  ScheduleGossip(std::chrono::milliseconds(static_cast<std::int64_t>(interval_ms * (1.0 + jitter))));
  if (gossip_paused_) return;  // a coordinator leads
  if (options_.flow != FlowControl::kTokenAccount) {
    StartTransfer();
    return;
  }
  if (tokens_.OnTick(rng_) && !StartTransfer()) tokens_.Refund();
}

bool Engine::StartTransfer() {
  const int limit = options_.flow == FlowControl::kPushPull ? 1 : kMaxPushesInFlight;
  if (transfers_in_flight_ >= limit) return false;  // still running: skip
  upload_budget_.Observe(Now(), transport_.Stats().bytes_sent);
  if (!upload_budget_.MayStart(Now(), last_request_bytes_)) {
    ++counters_.exchanges_over_budget;
    return false;
  }
  const std::optional<std::string> target = table_.PickGossipTarget(Now(), rng_);
  if (!target) return false;
  ++transfers_in_flight_;
  const Peer* peer = table_.Find(*target);
  if (peer->handshaken) {
    SendModel(*target);
    return true;
  }
  SendHello(*target, [this, address = *target](bool compatible) {
    if (!compatible) {
      --transfers_in_flight_;
      return;
    }
    SendModel(address);
  });
  return true;
}

void Engine::OnModelReceived() {
  if (options_.flow != FlowControl::kTokenAccount) return;
  const int sends = tokens_.OnReceived(rng_);
  if (sends == 0) return;
  const bool armed = reactive_pending_ > 0;
  reactive_pending_ += sends;
  if (armed) return;
  reactive_timer_.expires_after(std::chrono::duration_cast<Clock::duration>(options_.gossip_interval *
                                                                             kReactiveDelayShare));
  reactive_timer_.async_wait(Guarded([this](const std::error_code& ec) {
    if (!ec) OnReactiveTimer();
  }));
}

void Engine::OnReactiveTimer() {
  for (; reactive_pending_ > 0; --reactive_pending_) {
    if (!gossip_paused_ && StartTransfer()) {
      ++counters_.reactive_sends;
    } else {
      tokens_.Refund();
    }
  }
}

void Engine::SayHello(const std::string& address, std::function<void()> done) {
  const Peer* peer = table_.Find(address);
  auto waiting = hellos_in_flight_.find(address);
  // At most one such Hello per peer and retry_backoff_base: requests that ask for them cannot
  // turn into a stream of connections to a peer that is down.
  auto last = last_hello_asked_.find(address);
  const bool recent = last != last_hello_asked_.end() && Now() - last->second < options_.retry_backoff_base;
  if (peer == nullptr || peer->handshaken || (waiting == hellos_in_flight_.end() && recent)) {
    asio::post(gossip_timer_.get_executor(), Guarded(std::move(done)));
    return;
  }
  if (waiting != hellos_in_flight_.end()) return waiting->second.push_back(std::move(done));
  hellos_in_flight_[address].push_back(std::move(done));
  last_hello_asked_[address] = Now();
  SendHello(address, [this, address](bool /*compatible*/) {
    auto node = hellos_in_flight_.extract(address);
    for (auto& waiter : node.mapped()) waiter();
  });
}

void Engine::OnProbeTimer() {
  // Fixed rate (no drift). Whatever falls due before the middle of the next interval is done
  // now: an idle peer is pinged at every tick and a suspect one retried at the next tick, so a
  // peer that refuses connections fails 3 probes within ~3 intervals. A timed-out probe records
  // its failure (and so its retry time) probe_timeout after it was sent: the look-ahead covers
  // that too, or a host that went silent would be retried only every other tick.
  probe_timer_.expires_at(probe_timer_.expiry() + options_.probe_interval);
  WaitForProbe();
  upload_budget_.Observe(Now(), transport_.Stats().bytes_sent);
  const TimePoint look_ahead = Now() + options_.probe_interval / 2 + options_.probe_timeout;
  for (const std::string& address : table_.DueForProbe(look_ahead, options_.probe_interval)) {
    if (probes_in_flight_.insert(address).second) SendPing(address);
  }
}

void Engine::SendHello(const std::string& address, std::function<void(bool compatible)> done, HelloLevel level) {
  transport_.Request(address, EncodeMessage(MyHello(level)), options_.exchange_timeout,
                     Guarded([this, address, level, done = std::move(done)](Status status, Frame reply) mutable {
                       if (status.ok() && reply.type == MessageType::kError && level != HelloLevel::kPlain) {
                         const bool full = level == HelloLevel::kFull;
                         GL_LOG(kInfo, kLog) << "peer " << address << " refused a Hello with "
                                             << (full ? "features" : "a codec list")
                                             << " (an older build?): asking again without; it gets "
                                             << (full ? "push-pull exchanges" : "fp32 models");
                         return SendHello(address, std::move(done), full ? HelloLevel::kCodecs : HelloLevel::kPlain);
                       }
                       Result<Hello> hello = status.ok() ? DecodeMessage<Hello>(reply) : Result<Hello>(status);
                       if (!hello.ok()) {
                         NoteFailure(address, hello.status());
                         return done(false);
                       }
                       NoteSuccess(address);
                       if (Status compatible = CheckCompatible(*hello); !compatible.ok()) {
                         NoteIncompatible(address, hello->node_id, compatible);
                         return done(false);
                       }
                       const Peer* peer = table_.Find(address);
                       if (peer != nullptr && peer->state == PeerState::kIncompatible) {
                         GL_LOG(kInfo, kLog) << "peer " << address << " (" << hello->node_id
                                             << ") is compatible again";
                       }
                       table_.RecordHello(address, hello->node_id, hello->role);
                       peer_codecs_[address] = BestCommonCodec(options_.codecs, hello->codecs);
                       if (BothList(ModelCodec::kInt4Delta, options_.codecs, hello->codecs)) {
                         difference_peers_.insert(address);
                       } else {
                         difference_peers_.erase(address);
                       }
                       peer_features_[address] = hello->features;
                       done(true);
                     }));
}

bool Engine::SendsPushes(const std::string& address) const {
  return options_.flow != FlowControl::kPushPull && HasFeature(address, kHelloAcceptsPush);
}

void Engine::SendModel(const std::string& address) {
  const bool push = SendsPushes(address);
  const ModelCodec codec = CodecFor(address);
  Frame request;
  std::shared_ptr<const std::vector<float>> asked_difference;  // the reply's reference, as the peer decodes it
  if (push) {
    request = EncodeMessage(Push{options_.node_id, store_.Snapshot(), codec});
  } else {
    ExchangeRequest exchange{options_.node_id, store_.Snapshot(), codec};
    if (TakesDifferenceReplies(address)) {
      exchange.reply_codec = ModelCodec::kInt4Delta;
      asked_difference = std::make_shared<const std::vector<float>>(AsReceived(codec, exchange.model.params));
    }
    request = EncodeMessage(exchange);
  }
  last_request_bytes_ = kFrameHeaderSize + request.body.size();
  if (push) ++counters_.pushes_sent;
  transport_.Request(address, std::move(request), options_.exchange_timeout,
                     Guarded([this, address, push, asked_difference](Status status, Frame reply) {
                       --transfers_in_flight_;
                       if (!status.ok()) {
                         ++counters_.exchanges_failed;
                         return NoteFailure(address, status);
                       }
                       if (reply.type == MessageType::kError) return NoteRefused(address, reply);
                       if (push) return OnPushReply(address, std::move(reply));
                       OnExchangeReply(address, std::move(reply), asked_difference.get());
                     }));
}

void Engine::NoteRefused(const std::string& address, const Frame& reply) {
  ++counters_.exchanges_failed;
  NoteSuccess(address);  // it answered, so it is alive; it just refused our model
  // It may have restarted with another model: say Hello again next time to find out.
  if (Peer* peer = table_.Find(address)) peer->handshaken = false;
  Result<Error> error = DecodeMessage<Error>(reply);
  GL_LOG(kWarn, kLog) << "peer " << address << " refused our model: "
                      << (error.ok() ? error->reason : error.status().message());
}

void Engine::OnPushReply(const std::string& address, Frame reply) {
  if (Result<PushAck> ack = DecodeMessage<PushAck>(reply); !ack.ok()) {
    ++counters_.exchanges_failed;
    ++counters_.frames_rejected;
    GL_LOG(kWarn, kLog) << "malformed push answer from " << address << ": " << ack.status().message();
    return NoteFailure(address, ack.status());
  }
  NoteSuccess(address);
  ++counters_.exchanges_ok;
  table_.RecordExchange(address);
}

void Engine::OnExchangeReply(const std::string& address, Frame reply, const std::vector<float>* asked_difference) {
  Result<ExchangeReply> decoded = DecodeMessage<ExchangeReply>(reply);
  if (Status accepted = decoded.ok() ? CheckAccepted(decoded->codec) : Status::Ok(); !accepted.ok()) decoded = accepted;
  if (decoded.ok() && decoded->codec == ModelCodec::kInt4Delta) {
    if (Status whole = AddBackReference(decoded->model.params, asked_difference); !whole.ok()) decoded = whole;
  }
  if (!decoded.ok()) {
    ++counters_.exchanges_failed;
    ++counters_.frames_rejected;
    GL_LOG(kWarn, kLog) << "malformed exchange reply from " << address << ": " << decoded.status().message();
    return NoteFailure(address, decoded.status());
  }
  NoteSuccess(address);
  if (Status valid = CheckReceived(decoded->sender_id, address, decoded->model); !valid.ok()) {
    ++counters_.exchanges_failed;
    if (decoded->model.signature != signature_) return NoteIncompatible(address, decoded->sender_id, valid);
    GL_LOG(kWarn, kLog) << "model from " << address << " (" << decoded->sender_id << ") not merged: "
                        << valid.message();
    return;
  }
  store_.Offer(ReceivedModel{PeerKey(decoded->sender_id, address), std::move(decoded->model)});
  ++counters_.exchanges_ok;
  table_.RecordExchange(address);
  OnModelReceived();
}

void Engine::SendPing(const std::string& address) {
  transport_.Request(address, EncodeMessage(Ping{options_.node_id}), options_.probe_timeout,
                     Guarded([this, address](Status status, Frame /*reply*/) {
                       probes_in_flight_.erase(address);
                       // Any well-formed answer, even an Error, shows the peer is up.
                       if (status.ok()) return NoteSuccess(address);
                       NoteFailure(address, status);
                     }));
}

void Engine::NoteSuccess(const std::string& address) {
  const Peer* peer = table_.Find(address);
  if (peer == nullptr) return;
  const PeerState before = peer->state;
  table_.RecordSuccess(address, Now());
  if (before == PeerState::kSuspect || before == PeerState::kDead) {
    GL_LOG(kInfo, kLog) << "peer " << address << " is alive again (was " << PeerStateName(before) << ")";
  }
}

void Engine::NoteFailure(const std::string& address, const Status& why) {
  const Peer* peer = table_.Find(address);
  if (peer == nullptr) return;
  const PeerState before = peer->state;
  table_.RecordFailure(address, Now());
  if (peer->state != before) {
    GL_LOG(kInfo, kLog) << "peer " << address << " is now " << PeerStateName(peer->state) << ": " << why.ToString();
  }
}

void Engine::NoteIncompatible(const std::string& address, const std::string& id, const Status& why) {
  if (table_.MarkIncompatible(address, id, Now())) {
    GL_LOG(kWarn, kLog) << "peer " << (id.empty() ? address : id) << " at " << address
                        << " is incompatible, its models are not merged: " << why.message() << " (asked again every "
                        << options_.retry_backoff_max.count() / 1000.0 << " s)";
  }
}

Status Engine::CheckReceived(const std::string& sender_id, const std::string& address, const ModelSnapshot& remote) {
  Status valid = ValidateRemote(remote, signature_, param_count_);
  if (valid.ok()) return valid;
  ++counters_.rejected_updates;
  CountPerPeer(counters_.rejected_by_peer, PeerKey(sender_id, address));
  return valid;
}

Hello Engine::MyHello(HelloLevel level) const {
  Hello hello{options_.node_id, kProtocolVersion, signature_, options_.role, transport_.LocalAddress()};
  if (level == HelloLevel::kPlain) return hello;
  for (const ModelCodec codec : options_.codecs) hello.codecs.push_back(static_cast<std::uint8_t>(codec));
  if (level != HelloLevel::kFull) return hello;
  if (options_.accept_pushes) hello.features |= kHelloAcceptsPush;
  if (std::find(options_.codecs.begin(), options_.codecs.end(), ModelCodec::kInt4Delta) != options_.codecs.end()) {
    hello.features |= kHelloTakesRoundDifferences;
  }
  hello.features |= kHelloTrainsWithSgd;
  return hello;
}

bool Engine::HasFeature(const std::string& address, std::uint8_t feature) const {
  auto it = peer_features_.find(address);
  return it != peer_features_.end() && (it->second & feature) != 0;
}

ModelCodec Engine::CodecFor(const std::string& address) const {
  auto it = peer_codecs_.find(address);
  return it == peer_codecs_.end() ? ModelCodec::kFp32 : it->second;
}

Status Engine::CheckAccepted(ModelCodec codec) const {
  if (std::find(options_.codecs.begin(), options_.codecs.end(), codec) != options_.codecs.end()) return Status::Ok();
  std::string accepted;
  for (const ModelCodec c : options_.codecs) {
    if (!accepted.empty()) accepted += ", ";
    accepted += CodecName(c);
  }
  return Status::Corruption("model in codec " + CodecName(codec) + ", not negotiated: this node accepts " + accepted);
}

Status Engine::CheckCompatible(const Hello& hello) const {
  if (hello.protocol_version != kProtocolVersion) {
    return Status::Rejected("protocol version " + std::to_string(hello.protocol_version) + ", this node speaks " +
                            std::to_string(kProtocolVersion));
  }
  if (hello.signature != signature_) {
    return Status::Rejected("model signature '" + hello.signature + "', this node trains '" + signature_ + "'");
  }
  return Status::Ok();
}

}  // namespace gl::gossip

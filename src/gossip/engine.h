// Engine: the gossip-learning protocol of one node. Every gossip interval (+- jitter) it picks a
// uniformly random live peer and sends it its model (Hello first if the peer is new or was
// dead), as Options::flow says: a push-pull exchange (ExchangeRequest -> ExchangeReply; to a
// peer whose Hello lists int4-delta the request asks for the reply as the difference from the
// request's model, which the engine adds back before anything else sees it), or a
// Push -> PushAck, every interval or paced by a token account that also passes received
// models on (token_account.h); a peer whose Hello does not list pushes gets push-pull. It
// answers all of these from peers, and pings quiet, suspect and dead peers to detect failures. A received model passes only the
// cheap checks here (CheckReceived: signature, length, all finite; no copy of the local model)
// and goes to ModelStore::Offer with its sender's key; the node's MergePolicy
// (merge/merge_policy.h) judges its distance and merges it on the training thread.
//
// Trust: a verdict about a peer rests only on what a connection this node opened to that
// peer's address showed (its Hello reply, its model). A Hello that someone else sends names
// an address it cannot prove, so it changes nothing in the peer table; and no message adds a
// peer: only discovery and static configuration (AddPeer) do.
//
// Threading: every method, and every callback into ModelStore, runs on the io_context thread;
// the engine never blocks it. Ownership: `io`, `transport` and `store` must outlive the engine.
// The engine is the only user of `transport` once started: Stop() shuts the transport down.
#pragma once

#include <algorithm>
#include <asio.hpp>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "gossip/clock.h"
#include "gossip/wire/auth_rate_limit.h"
#include "gossip/wire/messages.h"
#include "gossip/model_snapshot.h"
#include "gossip/options.h"
#include "gossip/peer_table.h"
#include "gossip/token_account.h"
#include "gossip/upload_budget.h"
#include "gossip/wire/transport.h"

namespace gl::gossip {

struct PeerStatus {
  std::string id;                    // empty until the peer answered a Hello (or a hint was given)
  std::string address;               // "host:port"
  PeerState state = PeerState::kAlive;
  std::string role;                  // from its latest compatible Hello reply: "node" | "coordinator" | ""
  std::vector<std::string> sources;  // "static", "mdns"
  bool handshaken = false;           // answered a Hello since it was (re)admitted
  double last_seen_s = -1;           // seconds since the last successful contact; -1 = never
  std::uint64_t exchanges = 0;       // exchanges and pushes this node started with the peer and completed
  std::uint64_t failures = 0;        // failed contacts in total
  std::string codec;                 // of the models this node sends it: "fp32" until its Hello listed more
  std::string reply_codec;           // asked of its exchange replies: "int4-delta" if both list it, else = codec
  std::string flow;                  // how this node sends it its model: "push" (flow control pushes and
                                     // its Hello listed pushes) or "push-pull"
};

struct EngineStats {
  std::uint64_t exchanges_ok = 0;      // completed exchanges and pushes, started here or answered here
  std::uint64_t exchanges_failed = 0;  // exchanges and pushes started here that failed (timeout, refused, error)
  std::uint64_t rejected_updates = 0;  // received models refused by CheckReceived (never offered)
  std::map<std::string, std::uint64_t> rejected_by_peer;  // rejected_updates per "sender_id@host"
  std::uint64_t bytes_sent = 0;        // all gossip traffic, frame headers included
  std::uint64_t bytes_received = 0;
  std::uint64_t frames_rejected = 0;   // bad frames closed by the transport + undecodable bodies
  double upload_bytes_per_s = 0;       // bytes sent per second over the last minute (upload_budget.h)
  std::uint64_t exchanges_over_budget = 0;  // exchanges not started: max_upload_kbps reached
  std::uint64_t pushes_sent = 0;     // Push messages sent (each one model, answered without one)
  std::uint64_t reactive_sends = 0;  // models sent to pass a received one on (token account)
  int tokens = 0;                    // token account balance (FlowControl::kTokenAccount)
};

class Engine {
 public:
  Engine(asio::io_context& io, Options options, Transport& transport, ModelStore& store);
  ~Engine();  // Stop()
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Validates the options, reads the model signature once from store.Snapshot(), starts
  // answering and, after a random stagger, the gossip and probe timers. InvalidArgument
  // (nothing started) if the options are invalid. Call once.
  Status Start();
  // Cancels the timers, shuts the transport down (closing the listener and aborting the
  // exchange in flight); no ModelStore call happens afterwards. Idempotent.
  void Stop();

  // `source` is "static" or "mdns"; a known address just gains the source.
  void AddPeer(const std::string& address, const std::string& source, const std::string& id_hint = "");
  void RemovePeer(const std::string& address, const std::string& source);

  std::vector<PeerStatus> Peers() const;
  // When the peer at `address` last answered this node (peer table time); nullopt if never or unknown.
  std::optional<PeerTable::TimePoint> LastSeen(const std::string& address) const;
  EngineStats Stats() const;

  // Coordinator mode. Requests of the round types (RoundRequest) go to `handler`
  // (the node's RoundParticipant); without one they are answered with Error.
  void SetRoundHandler(Transport::RequestHandler handler) { round_handler_ = std::move(handler); }
  // While paused the engine starts no exchanges (it still answers them and probes peers).
  void SetGossipPaused(bool paused) { gossip_paused_ = paused; }
  // From the next interval on, the engine waits gossip_interval x `factor` between the
  // exchanges (or pushes) it starts; it still answers every peer at once. `factor` is clamped
  // to [1, kMaxIntervalStretch] (not a number: 1). A node stretches the interval as its
  // learning rate decays. Thread-safe.
  void SetIntervalStretch(double factor) {
    interval_stretch_.store(factor >= 1 ? std::min(factor, kMaxIntervalStretch) : 1.0);
  }
  static constexpr double kMaxIntervalStretch = 1000;
  // Says Hello to the known peer at `address` now, unless it answered one since it was
  // (re)admitted, one is on its way, or one was asked for within retry_backoff_base; the
  // reply sets its id and role in Peers(). Unknown
  // addresses are not contacted: this never reaches an address nothing vouches for. `done`
  // runs once that Hello (or the one on its way) ended, or at once (posted) if none is sent;
  // never after Stop().
  void SayHello(const std::string& address, std::function<void()> done);

  // Runs `send` once the upload budget (Options::max_upload_kbps) covers `bytes`, and spends
  // them then: at once if it does or there is no budget, else when its rate has paid for
  // them. Queued sends run in order. For traffic the engine does not start itself (a
  // coordinator's round requests). Never runs after Stop().
  void WhenUploadAllows(std::uint64_t bytes, std::function<void()> send);

  // A copy of the local model (ModelStore::Snapshot), for a screen that needs it (a round's model).
  ModelSnapshot LocalModel() { return store_.Snapshot(); }

  // The codec of models sent to the peer at `address`: the most compact one both accept,
  // from its latest Hello reply; fp32 before one.
  ModelCodec CodecFor(const std::string& address) const;
  // Whether replies from the peer at `address` may come as int4-delta differences: both its
  // latest Hello reply and Options::codecs list int4-delta (docs/wire.md "Delta replies").
  bool TakesDifferenceReplies(const std::string& address) const { return difference_peers_.count(address) != 0; }
  // The same for a RoundRequest's reply, which also needs the peer's Hello to say it reads
  // RoundRequest.reply_codec (kHelloTakesRoundDifferences).
  bool TakesRoundDifferences(const std::string& address) const {
    return TakesDifferenceReplies(address) && HasFeature(address, kHelloTakesRoundDifferences);
  }
  // Whether the peer at `address` reads a RoundRequest's optimizer field and trains with SGD
  // when asked (its latest Hello reply has kHelloTrainsWithSgd).
  bool TrainsWithSgd(const std::string& address) const { return HasFeature(address, kHelloTrainsWithSgd); }
  // Whether the peer at `address` answered a Hello since it was (re)admitted: what the
  // answers above are known from.
  bool HelloAnswered(const std::string& address) const { return peer_features_.count(address) != 0; }
  // OK if this node accepts models in `codec` (Options::codecs); else Corruption: a model in
  // another one breaks the negotiation and is refused like a malformed frame.
  Status CheckAccepted(ModelCodec codec) const;

 private:
  using TimePoint = PeerTable::TimePoint;

  // Whether the latest Hello reply of the peer at `address` has the kHello* bit `feature`.
  bool HasFeature(const std::string& address, std::uint8_t feature) const;

  void ScheduleGossip(std::chrono::milliseconds delay);
  void ScheduleProbe(std::chrono::milliseconds delay);
  void WaitForProbe();
  void OnGossipTimer();
  void OnProbeTimer();
  // Runs the queued uploads the budget covers; arms upload_timer_ for the next one.
  void SendQueuedUploads();
  // Initiator side (engine.cc).
  // What a Hello carries: each level adds an optional last field older builds refuse.
  enum class HelloLevel { kPlain, kCodecs, kFull /* codecs and features */ };
  // `done(true)` once the peer answered a compatible Hello; `done(false)` on any failure.
  // A Hello the peer refuses (an older build) is sent again one level lower.
  void SendHello(const std::string& address, std::function<void(bool compatible)> done,
                 HelloLevel level = HelloLevel::kFull);
  // Sends the model to a random live peer (Hello first if needed) unless too many transfers
  // are in flight, the upload budget is spent or no peer is live; true if one started.
  bool StartTransfer();
  // True if the flow control pushes and the peer's Hello reply said it accepts pushes.
  bool SendsPushes(const std::string& address) const;
  // A Push if SendsPushes, else a push-pull exchange.
  void SendModel(const std::string& address);
  void SendPing(const std::string& address);
  // The peer's answer to a model this node sent, other than Error. `asked_difference` holds
  // the request's model as the peer decoded it if the request asked for an int4-delta reply,
  // else nullptr (an int4-delta reply is then malformed).
  void OnExchangeReply(const std::string& address, Frame reply, const std::vector<float>* asked_difference);
  void OnPushReply(const std::string& address, Frame reply);
  // An Error in answer to a model this node sent: the peer is alive but refused it.
  void NoteRefused(const std::string& address, const Frame& reply);
  // Token account: a model was received and offered; pass it on to as many peers as the
  // account allows, once the training thread had time to merge it.
  void OnModelReceived();
  void OnReactiveTimer();
  void NoteSuccess(const std::string& address);
  void NoteFailure(const std::string& address, const Status& why);
  // Responder side (engine_responder.cc).
  void OnRequest(const std::string& from, Frame request, Transport::Respond respond);
  void AnswerHello(const std::string& from, const Frame& request, const Transport::Respond& respond);
  void AnswerExchange(const std::string& from, const Frame& request, const Transport::Respond& respond);
  void AnswerPush(const std::string& from, const Frame& request, const Transport::Respond& respond);
  // The reply to `exchange`: the local model minus the request's, in int4-delta, if the request
  // asked for that and this node lists it and can code the difference; else the whole model
  // in the request's codec.
  ExchangeReply ReplyTo(const ExchangeRequest& exchange);
  // Decodes a model-carrying request and runs the receiver's checks; on a failure it has
  // answered with Error (and counted it) and returns nullopt.
  template <class Message>
  std::optional<Message> ReceiveModel(const std::string& from, const Frame& request, const Transport::Respond& respond);
  void RejectMalformed(const std::string& from, const Status& why, const Transport::Respond& respond);
  // Shared helpers.
  // With the fields `level` allows: a peer whose Hello lacked one (an older build) gets none.
  Hello MyHello(HelloLevel level) const;
  // OK if the peer speaks our protocol and trains the same model; else Rejected with the reason.
  Status CheckCompatible(const Hello& hello) const;
  // The cheap checks of a model `sender_id` at `address` sent (merge.h ValidateRemote against
  // the local signature and length). A refusal is counted against PeerKey(sender_id, address).
  // Returns Rejected with the reason.
  Status CheckReceived(const std::string& sender_id, const std::string& address, const ModelSnapshot& remote);
  // Marks the peer at `address` (if known) incompatible until its re-check; logs a new verdict.
  void NoteIncompatible(const std::string& address, const std::string& id, const Status& why);
  // Wraps a callback so that it does nothing once the engine is stopped or destroyed.
  template <class Callback>
  auto Guarded(Callback callback);
  TimePoint Now() const { return Clock::now(); }

  const Options options_;
  Transport& transport_;
  ModelStore& store_;
  PeerTable table_;
  std::mt19937_64 rng_;
  Timer gossip_timer_;
  Timer probe_timer_;
  Timer reactive_timer_;
  Timer upload_timer_;
  std::deque<std::pair<std::uint64_t, std::function<void()>>> queued_uploads_;  // (bytes, send)
  std::shared_ptr<int> alive_token_ = std::make_shared<int>(0);  // expires on Stop()
  bool started_ = false;
  bool stopped_ = false;
  std::string signature_;      // of the local model, read once at Start()
  std::size_t param_count_ = 0;
  int transfers_in_flight_ = 0;  // exchanges and pushes started here and not yet answered
  bool gossip_paused_ = false;
  std::atomic<double> interval_stretch_{1.0};
  Transport::RequestHandler round_handler_;
  std::set<std::string> probes_in_flight_;
  // SayHello's Hellos on their way, by address (peer-table addresses only), and who waits for each.
  std::map<std::string, std::vector<std::function<void()>>> hellos_in_flight_;
  std::map<std::string, TimePoint> last_hello_asked_;  // by SayHello, per peer-table address
  LogGate hello_log_gate_{std::chrono::seconds(10)};  // incompatible Hellos answered: per host
  EngineStats counters_;  // exchanges_*, rejected_* and undecodable bodies
  std::map<std::string, ModelCodec> peer_codecs_;  // by peer-table address, from Hello replies
  std::map<std::string, std::uint8_t> peer_features_;  // by peer-table address: its Hello reply's kHello* bits
  std::set<std::string> difference_peers_;  // peer-table addresses whose Hello reply and ours list int4-delta
  TokenAccount tokens_;
  int reactive_pending_ = 0;  // reactive sends waiting for reactive_timer_
  UploadBudget upload_budget_;
  std::uint64_t last_request_bytes_ = 0;  // of the latest ExchangeRequest: what the next one will cost
};

template <class Callback>
auto Engine::Guarded(Callback callback) {
  return [token = std::weak_ptr<int>(alive_token_), callback = std::move(callback)](auto&&... args) mutable {
    if (token.expired()) return;
    callback(std::forward<decltype(args)>(args)...);
  };
}

}  // namespace gl::gossip

// The declaration of every setting of `gossip-learner run`: section, key (its flag is the key
// with dashes), Config field, valid values and one line of why. config/node.toml lists the same
// keys with their defaults and the longer story; bench/RESULTS.md has the measured figures.
#include <string>

#include "common/host_port.h"
#include "gossip/token_account.h"
#include "gossip/wire/model_codec.h"
#include "gossip/wire/round_messages.h"
#include "node/setting.h"

namespace gl::node {
namespace {

template <typename T>
std::string Show(const T& value) {
  return ValueTraits<T>::Show(value);
}

// `text` and a predicate over the value.
template <typename T, typename Predicate>
Rule<T> Must(std::string text, Predicate valid) {
  return Rule<T>{text, [text, valid](const T& v) {
                   return valid(v) ? std::string() : "must be " + text + " (got " + Show(v) + ")";
                 }};
}

// In [lo, hi], (lo, hi), (lo, hi] or [lo, hi) as `brackets` says. NaN is never in range.
template <typename T>
Rule<T> In(T lo, T hi, const char (&brackets)[3]) {
  const bool lo_open = brackets[0] == '(', hi_open = brackets[1] == ')';
  return Must<T>("in " + std::string(1, brackets[0]) + Show(lo) + ", " + Show(hi) + std::string(1, brackets[1]),
                 [=](T v) { return (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi); });
}

template <typename T>
Rule<T> AtLeast(T lo, const std::string& note = "") {
  return Must<T>(">= " + Show(lo) + note, [lo](T v) { return v >= lo; });
}

// 0 (which means `off`) or at least `lo`.
Rule<double> ZeroOrAtLeast(double lo, const std::string& off) {
  return Must<double>("0 (" + off + ") or >= " + Show(lo), [lo](double v) { return v == 0 || v >= lo; });
}

// Seconds: at least `lo` (below that a period would spin, or round to 0 ms), at most 1e6; with
// `off`, 0 too.
Rule<double> Seconds(double lo, const char* off = nullptr) {
  const std::string range = "between " + Show(lo) + " and 1e6 seconds";
  return Must<double>(off ? "0 (" + std::string(off) + ") or " + range : range,
                      [lo, off](double v) { return (v == 0 && off) || (v >= lo && v <= 1e6); });
}

template <typename T>
Rule<T> Any() {
  return {};
}

Rule<std::string> Address(PortZero port_zero) {
  return {"HOST:PORT", [port_zero](const std::string& v) {
            Result<HostPort> parsed = ParseHostPort(v, port_zero);
            return parsed.ok() ? std::string() : parsed.status().message();
          }};
}

// Each a codec this build knows, fp32 among them (what every node speaks).
Rule<std::vector<std::string>> Codecs() {
  return {"a list of fp32, fp16, int8, int4-delta that includes fp32", [](const std::vector<std::string>& names) {
            bool fp32 = false;
            for (const std::string& name : names) {
              const std::optional<gossip::ModelCodec> codec = gossip::ParseCodec(name);
              if (!codec) return "unknown codec '" + name + "': must be fp32, fp16, int8 or int4-delta";
              fp32 = fp32 || *codec == gossip::ModelCodec::kFp32;
            }
            if (names.size() > gossip::kMaxCodecListEntries) return std::string("at most 16 codecs");
            return fp32 ? std::string() : std::string("must include fp32, which every node speaks");
          }};
}

Rule<std::vector<std::string>> Addresses() {
  return {"each HOST:PORT", [](const std::vector<std::string>& peers) {
            for (const std::string& peer : peers) {
              if (Result<HostPort> parsed = ParseHostPort(peer); !parsed.ok()) return parsed.status().message();
            }
            return std::string();
          }};
}

// What a setting was called before, still accepted and not shown: the flag, and the key.
struct Renamed {
  std::string flag;
  std::string key;
};

template <typename T>
std::unique_ptr<Setting> Declare(const char* section, const char* key, T Config::*field, Rule<T> rule,
                                 std::string why, Renamed renamed = {}) {
  return std::make_unique<TypedSetting<T>>(section, key, field, std::move(rule), std::move(why),
                                           std::move(renamed.flag), std::move(renamed.key));
}

std::vector<std::unique_ptr<Setting>> Declarations() {
  constexpr const char* kNode = "node";
  constexpr const char* kTraining = "training";
  constexpr const char* kGossip = "gossip";
  constexpr const char* kRounds = "coordinator";
  constexpr const char* kCommandLineOnly = nullptr;
  std::vector<std::unique_ptr<Setting>> s;
  // ---- [node]
  s.push_back(Declare(kNode, "id", &Config::id, Any<std::string>(),
                      "Node id, shown to peers and in the status; \"\" = <hostname>-<port>"));
  s.push_back(Declare(kNode, "listen", &Config::listen, Address(PortZero::kAllowed),
                      "Gossip TCP address (IPv6 in brackets); port 0 picks a free port"));
  s.push_back(Declare(kNode, "data", &Config::data, Any<std::string>(),
                      "Local training data: a TSV shard or a folder of <Language>.txt; required"));
  s.push_back(Declare(kNode, "eval_data", &Config::eval_data, Any<std::string>(),
                      "Common evaluation file, scored every eval_interval_s (experiments)"));
  s.push_back(Declare(kNode, "state_dir", &Config::state_dir, Any<std::string>(),
                      "This node's model.bin, checkpoints, lock and status socket; one node per dir"));
  s.push_back(Declare(kNode, "status_socket", &Config::status_socket, Any<std::string>(),
                      "Status socket path; \"\" = <state_dir>/status.sock"));
  s.push_back(Declare(kNode, "peers", &Config::peers, Addresses(), "Static peers HOST:PORT (the flag repeats)",
                      {"--peer", ""}));
  s.push_back(Declare(kNode, "discovery", &Config::discovery, Any<DiscoveryMode>(),
                      "How peers are found: mDNS (Avahi), the static peers, or both"));
  s.push_back(Declare(kNode, "cluster", &Config::cluster, Any<std::string>(),
                      "Cluster name published over mDNS; nodes of other clusters are ignored"));
  s.push_back(Declare(kNode, "role", &Config::role, Any<Role>(),
                      "\"coordinator\" runs server-led Federated Averaging rounds"));
  s.push_back(Declare(kNode, "key_file", &Config::key_file, Any<std::string>(),
                      "Cluster key (gossip-learner keygen), the same on every node; \"\" = run open"));
  s.push_back(Declare(kNode, "encrypt", &Config::encrypt, Any<bool>(),
                      "With key_file: encrypt frames too (set it the same on every node)"));
  s.push_back(Declare(kNode, "io_nice", &Config::io_nice, In(0, 19, "[]"),
                      "Added to the network thread's nice value, so a flood of frames cannot take training's CPU"));
  s.push_back(Declare(kCommandLineOnly, "fresh", &Config::fresh, Any<bool>(), "Ignore the checkpoint in state_dir"));
  // ---- [training]
  s.push_back(Declare(kTraining, "hidden", &Config::hidden, In(8, 1024, "[]"),
                      "GRU hidden size; every node of a cluster the same (part of the model signature)"));
  s.push_back(Declare(kTraining, "batch_size", &Config::batch_size,
                      In(1, static_cast<int>(gossip::kMaxRoundBatchSize), "[]"), "Minibatch size", {"--batch", ""}));
  s.push_back(Declare(kTraining, "learning_rate", &Config::learning_rate, In(0.0, 1.0, "()"),
                      "Adam learning rate at the start; high because each merge dilutes a node's own steps",
                      {"--lr", ""}));
  s.push_back(Declare(kTraining, "lr_half_life_epochs", &Config::lr_half_life_epochs, AtLeast(0.0, " (0 = constant)"),
                      "Local epochs over which the learning rate halves", {"--lr-half-life", ""}));
  s.push_back(Declare(kTraining, "min_learning_rate", &Config::min_learning_rate, In(0.0, 1.0, "[)"),
                      "Floor of the learning-rate decay (at most learning_rate)", {"--min-lr", ""}));
  s.push_back(Declare(kTraining, "dropout", &Config::dropout, In(0.0, 0.9, "[]"),
                      "Dropout on the GRU's last state while training, against overfitting over a long run"));
  s.push_back(Declare(kTraining, "consensus_pull", &Config::consensus_pull, In(0.0, 0.5, "[]"),
                      "Share of the way each minibatch moves the model toward the peers' average (0 = off): "
                      "bounds drift toward the local shard"));
  s.push_back(Declare(kTraining, "validation_fraction", &Config::validation_fraction, In(0.0, 0.9, "()"),
                      "Share of the local data held out (stratified) for the node's own validation"));
  s.push_back(Declare(kTraining, "eval_interval_s", &Config::eval_interval_s, Seconds(1, "only at start and exit"),
                      "Seconds between evaluations, each writing the model it scored to <state_dir>/model.bin",
                      {"--eval-interval", ""}));
  s.push_back(Declare(kTraining, "checkpoint_interval_s", &Config::checkpoint_interval_s, Seconds(1, "only at exit"),
                      "Seconds between checkpoints: at most this much training is lost on a crash",
                      {"--checkpoint-interval", ""}));
  s.push_back(Declare(kTraining, "class_weighting", &Config::class_weighting, Any<bool>(),
                      "Weight the loss by inverse label frequency (rare languages gain, overall accuracy loses)"));
  s.push_back(Declare(kTraining, "intervals_per_epoch", &Config::intervals_per_epoch, AtLeast(0.0, " (0 = no pacing)"),
                      "A local epoch spans at least this many gossip intervals, so models merge while they train"));
  s.push_back(Declare(kTraining, "min_epoch_samples", &Config::min_epoch_samples, In(0, 1'000'000, "[]"),
                      "A local epoch trains at least this many samples (whole passes over a smaller shard); "
                      "bounded because the epoch's order is held in memory"));
  s.push_back(Declare(kTraining, "seed", &Config::seed, Any<std::uint64_t>(),
                      "Seed of the validation split, shuffling and initial weights"));
  // ---- [gossip]
  s.push_back(Declare(kGossip, "gossip_interval_s", &Config::gossip_interval_s, Seconds(0.1, "answer only"),
                      "Seconds between exchanges or pushes (+-25% jitter): shorter agrees faster, sends more",
                      {"--gossip-interval", "interval_s"}));
  s.push_back(Declare(kGossip, "interval_stretch_start", &Config::interval_stretch_start, In(0.0, 30.0, "[]"),
                      "Learning-rate halvings before the gossip interval starts to stretch with the decay"));
  s.push_back(Declare(kGossip, "interval_stretch_max", &Config::interval_stretch_max, In(1.0, 64.0, "[]"),
                      "Most times gossip_interval_s between exchanges once the learning rate has decayed "
                      "(1 = a fixed interval): a settled cluster sends less"));
  s.push_back(Declare(kGossip, "exchange_timeout_s", &Config::exchange_timeout_s, Seconds(0.1),
                      "A peer that does not answer within this has failed once"));
  s.push_back(Declare(kGossip, "probe_interval_s", &Config::probe_interval_s, Seconds(0.1, "off"),
                      "Seconds between liveness probes of quiet peers (faster than failed exchanges)"));
  s.push_back(Declare(kGossip, "dead_after_failures", &Config::dead_after_failures, AtLeast(1),
                      "Consecutive failures before a peer is declared dead (then retried with backoff)"));
  s.push_back(Declare(kGossip, "flow_control", &Config::flow_control, Any<FlowChoice>(),
                      "push sends one model per contact instead of two; token-account paces pushes and relays fresh models"));
  s.push_back(Declare(kGossip, "token_capacity", &Config::token_capacity,
                      In(1, gossip::kMaxTokenCapacity, "[]"),
                      "token-account: most tokens (intervals not sent in) a node saves for quick relays"));
  s.push_back(Declare(kGossip, "token_reactivity", &Config::token_reactivity, In(1, gossip::kMaxTokenCapacity, "[]"),
                      "token-account: a received model is relayed to about tokens / this peers (<= token_capacity)"));
  s.push_back(Declare(kGossip, "merge", &Config::merge, Any<MergeChoice>(),
                      "How received models are merged; trimmed-mean resists poisoned peers but costs accuracy"));
  s.push_back(Declare(kGossip, "merge_window", &Config::merge_window, In(1, 32, "[]"),
                      "trimmed-mean: distinct peers whose latest models are kept"));
  s.push_back(Declare(kGossip, "clip_factor", &Config::clip_factor, AtLeast(0.0, " (0 = off)"),
                      "Received models beyond this x the median peer distance are pulled in to it"));
  s.push_back(Declare(kGossip, "clip_window", &Config::clip_window, In(3, 64, "[]"),
                      "Distinct peers whose latest distances set that median"));
  s.push_back(Declare(kGossip, "clip_drop_factor", &Config::clip_drop_factor, ZeroOrAtLeast(1, "never drop"),
                      "Received models beyond this x the clip radius are not merged at all"));
  s.push_back(Declare(kGossip, "clip_radial_share", &Config::clip_radial_share, In(0.0, 1.0, "[]"),
                      "A merge shrinks or grows the model by at most about this share of its norm (0 = no cap)"));
  s.push_back(Declare(kGossip, "max_update_norm", &Config::max_update_norm, AtLeast(0.0, " (0 = no bound)"),
                      "Received models further (L2) than this and 4x the local norm from the local one are refused"));
  s.push_back(Declare(kGossip, "max_frames_per_second", &Config::max_frames_per_second,
                      AtLeast(0.0, " (0 = no limit)"), "Frames each remote host may send per second (bursts of 2x)"));
  s.push_back(Declare(kGossip, "max_connections_per_host", &Config::max_connections_per_host, AtLeast(1),
                      "Inbound connections one remote host may hold open at once, so it cannot take every slot"));
  s.push_back(Declare(kGossip, "codecs", &Config::codecs, Codecs(),
                      "Model codecs this node accepts; each pair uses the most compact both list (int8: 1/4 of fp32's bytes)"));
  s.push_back(Declare(kGossip, "max_upload_kbps", &Config::max_upload_kbps, AtLeast(0.0, " (0 = unlimited)"),
                      "Upload budget in kbit/s, for a shared Wi-Fi; exchanges and round requests start only as it allows"));
  // ---- [coordinator]
  s.push_back(Declare(kRounds, "fraction", &Config::fraction, In(0.0, 1.0, "(]"),
                      "Share of the live nodes asked to train in each round"));
  s.push_back(Declare(kRounds, "min_nodes", &Config::min_nodes, AtLeast(1),
                      "Fewest participants a round starts with and must hear back from"));
  s.push_back(Declare(kRounds, "local_epochs", &Config::local_epochs,
                      In(1, static_cast<int>(gossip::kMaxRoundEpochs), "[]"), "Local epochs each participant trains per round"));
  s.push_back(Declare(kRounds, "client_lr", &Config::client_lr,
                      In(0.0, static_cast<double>(gossip::kMaxRoundLearningRate), "()"),
                      "Participants' learning rate in round 1 (learning_rate is for gossip training)"));
  s.push_back(Declare(kRounds, "client_optimizer", &Config::client_optimizer, Any<ClientOptimizerChoice>(),
                      "Participants' optimizer: adam, or sgd (one step a round with server adam: FedSGD)"));
  s.push_back(Declare(kRounds, "lr_decay", &Config::lr_decay, In(0.0, 1.0, "(]"),
                      "Round r trains with client_lr x lr_decay^(r-1); 1 = constant"));
  s.push_back(Declare(kRounds, "round_deadline_s", &Config::round_deadline_s, Seconds(0.1),
                      "Seconds a round waits for its participants (and a reply may take)", {"--round-deadline", ""}));
  s.push_back(Declare(kRounds, "failover_timeout_s", &Config::failover_timeout_s, Seconds(0.1),
                      "Seconds without a round from the coordinator before nodes gossip again",
                      {"--failover-timeout", ""}));
  s.push_back(Declare(kRounds, "strategy", &Config::strategy, Any<StrategyChoice>(),
                      "How the coordinator combines the participants' updates"));
  s.push_back(Declare(kRounds, "coordinator_trains", &Config::coordinator_trains, Any<bool>(),
                      "The coordinator also trains on its own data in each round"));
  s.push_back(Declare(kRounds, "server_optimizer", &Config::server_optimizer, Any<ServerOptimizerChoice>(),
                      "How the global model follows the combined update: sgd (FedAvgM) or adam (FedAdam)"));
  s.push_back(Declare(kRounds, "server_lr", &Config::server_lr, In(0.0, 10.0, "(]"),
                      "Server learning rate; sgd with 1 and momentum 0 is plain FedAvg"));
  s.push_back(Declare(kRounds, "server_momentum", &Config::server_momentum, In(0.0, 1.0, "[)"),
                      "sgd: server momentum (FedAvgM), damping the round-to-round swing"));
  s.push_back(Declare(kRounds, "server_tau", &Config::server_tau, Must<double>("> 0", [](double v) { return v > 0; }),
                      "adam: adaptivity floor; steps of parameters that barely move are damped"));
  return s;
}

}  // namespace

const std::vector<std::unique_ptr<Setting>>& DeclaredSettings() {
  static const std::vector<std::unique_ptr<Setting>> settings = Declarations();
  return settings;
}

}  // namespace gl::node

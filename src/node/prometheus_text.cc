#include "node/prometheus_text.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <sstream>

namespace gl::node {
namespace {

struct Scalar {
  const char* key;   // top-level key of the status document
  const char* name;  // metric name after the gossip_learner_ prefix
  const char* type;  // "counter" or "gauge"
  const char* help;
};

constexpr Scalar kScalars[] = {
    {"uptime_s", "uptime_seconds", "gauge", "Seconds since the node started."},
    {"model_age", "model_age", "gauge", "Samples trained into the model, its own and merged in (age-weighted merge)."},
    {"samples_trained", "samples_trained_total", "counter", "Samples this node trained on."},
    {"epochs", "epochs_total", "counter", "Local epochs over this node's data."},
    {"merges", "merges_total", "counter", "Received models merged into the local one."},
    {"merges_clipped", "merges_clipped_total", "counter", "Received models pulled in to the clip radius."},
    {"merges_capped", "merges_capped_total", "counter", "Received models whose radial pull was capped."},
    {"merges_dropped", "merges_dropped_total", "counter", "Received models beyond the drop radius, not merged."},
    {"offers_dropped", "offers_dropped_total", "counter", "Received models dropped unmerged: the queue was full."},
    {"clip_radius", "clip_radius", "gauge", "Current clip radius (L2); 0 until enough peers are known."},
    {"train_loss", "train_loss", "gauge", "Mean training loss of the last epoch."},
    {"samples_per_s", "samples_per_second", "gauge", "Training rate."},
    {"learning_rate", "learning_rate", "gauge", "Current Adam learning rate."},
    {"interval_stretch", "gossip_interval_stretch", "gauge", "Gossip interval as a multiple of gossip_interval_s."},
    {"exchanges_ok", "exchanges_ok_total", "counter", "Gossip exchanges that completed."},
    {"exchanges_failed", "exchanges_failed_total", "counter", "Gossip exchanges that failed (timeout, refused, error)."},
    {"rejected_updates", "rejected_updates_total", "counter", "Received models refused by the update screen."},
    {"rejected_too_far", "rejected_too_far_total", "counter", "Received models refused as too far from the local one."},
    {"update_norm_max", "update_norm_max", "gauge", "Largest L2 distance of a received model that passed the screen."},
    {"frames_rejected", "frames_rejected_total", "counter", "Malformed or unexpected frames refused."},
    {"auth_failures", "auth_failures_total", "counter", "Connections that failed cluster-key authentication."},
    {"frames_throttled", "frames_throttled_total", "counter", "Connections closed by the per-host frame rate limit."},
    {"bytes_sent", "sent_bytes_total", "counter", "Gossip bytes sent."},
    {"bytes_received", "received_bytes_total", "counter", "Gossip bytes received."},
    {"upload_bytes_per_s", "upload_bytes_per_second", "gauge", "Gossip bytes sent per second over the last minute."},
    {"exchanges_over_budget", "exchanges_over_budget_total", "counter",
     "Exchanges not started because max_upload_kbps was reached."},
    {"param_count", "parameters", "gauge", "Number of model parameters."},
};

struct Score {
  const char* key;   // "validation" or "eval"
  const char* what;  // for HELP
};
constexpr const char* kUpHelp = "1 if the node answered on its status socket.";

constexpr Score kScores[] = {{"validation", "the node's held-out share of its own data"},
                             {"eval", "the common evaluation file (eval_data)"}};

// Label values may hold any text: backslash, double quote and newline are escaped.
std::string Escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string Number(const nlohmann::json& value) {
  if (value.is_number_integer() || value.is_number_unsigned()) return value.dump();
  const double v = value.get<double>();
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char text[32];
  std::snprintf(text, sizeof text, "%.10g", v);
  return text;
}

// Known peers counted by the value of their `field`; `always` are listed even when 0.
std::map<std::string, int> PeersBy(const nlohmann::json& status, const char* field,
                                   std::initializer_list<const char*> always) {
  std::map<std::string, int> counts;
  for (const char* value : always) counts[value] = 0;
  if (status.contains("peers") && status["peers"].is_array()) {
    for (const auto& peer : status["peers"]) ++counts[peer.value(field, "unknown")];
  }
  return counts;
}

class Exposition {
 public:
  explicit Exposition(std::string labels) : labels_(std::move(labels)) {}

  void Header(const std::string& name, const char* type, const std::string& help) {
    out_ << "# HELP gossip_learner_" << name << ' ' << help << "\n# TYPE gossip_learner_" << name << ' ' << type
         << '\n';
  }
  void Sample(const std::string& name, const std::string& value, const std::string& extra_labels = "") {
    out_ << "gossip_learner_" << name << '{' << labels_ << extra_labels << "} " << value << '\n';
  }
  std::string Text() const { return out_.str(); }

 private:
  std::string labels_;
  std::ostringstream out_;
};

}  // namespace

std::string PrometheusText(const nlohmann::json& status) {
  Exposition e("id=\"" + Escape(status.value("id", "")) + "\",cluster=\"" + Escape(status.value("cluster", "")) +
               "\"");
  e.Header("up", "gauge", kUpHelp);
  e.Sample("up", "1");
  e.Header("info", "gauge", "Always 1; the node's role, mode and model signature as labels.");
  e.Sample("info", "1",
           ",role=\"" + Escape(status.value("role", "")) + "\",mode=\"" + Escape(status.value("mode", "")) +
               "\",signature=\"" + Escape(status.value("signature", "")) + "\"");
  for (const Scalar& s : kScalars) {
    auto it = status.find(s.key);
    if (it == status.end()) continue;
    if (it->is_object()) {  // per-host counts (auth_failures): their sum
      std::uint64_t sum = 0;
      for (const auto& count : *it) sum += count.is_number_integer() ? count.get<std::uint64_t>() : 0;
      e.Header(s.name, s.type, s.help);
      e.Sample(s.name, std::to_string(sum));
      continue;
    }
    if (!it->is_number()) continue;
    e.Header(s.name, s.type, s.help);
    e.Sample(s.name, Number(*it));
  }
  for (const Score& score : kScores) {
    auto it = status.find(score.key);
    if (it == status.end() || !it->is_object()) continue;  // null until the first evaluation
    for (const char* metric : {"accuracy", "macro_f1"}) {
      if (!it->contains(metric) || !(*it)[metric].is_number()) continue;
      const std::string name = std::string(score.key) + "_" + metric;
      e.Header(name, "gauge", std::string(metric) + " on " + score.what + ", in [0, 1].");
      e.Sample(name, Number((*it)[metric]));
    }
  }
  e.Header("peers", "gauge", "Known peers by state.");
  for (const auto& [state, count] : PeersBy(status, "state", {"alive", "suspect", "dead"})) {
    e.Sample("peers", std::to_string(count), ",state=\"" + Escape(state) + "\"");
  }
  e.Header("peers_by_codec", "gauge", "Known peers by the codec of the models this node sends them.");
  for (const auto& [codec, count] : PeersBy(status, "codec", {})) {
    e.Sample("peers_by_codec", std::to_string(count), ",codec=\"" + Escape(codec) + "\"");
  }
  return e.Text();
}

std::string PrometheusNodeDown() {
  return std::string("# HELP gossip_learner_up ") + kUpHelp + "\n# TYPE gossip_learner_up gauge\ngossip_learner_up 0\n";
}

}  // namespace gl::node

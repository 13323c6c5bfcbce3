#include "node/status_report.h"

#include <map>

#include <nlohmann/json.hpp>

namespace gl::node {
namespace {

nlohmann::json MetricsJson(const std::optional<nn::Metrics>& m) {
  if (!m) return nullptr;
  return {{"accuracy", m->accuracy}, {"macro_f1", m->macro_f1},
          {"balanced_accuracy", m->balanced_accuracy}, {"loss", m->mean_loss}, {"samples", m->samples}};
}

std::vector<float> Sample(const std::vector<float>& params) {
  std::vector<float> sample;
  if (params.empty()) return sample;
  const std::size_t n = std::min(kParamSampleSize, params.size());
  sample.reserve(n);
  for (std::size_t i = 0; i < n; ++i) sample.push_back(params[i * params.size() / n]);
  return sample;
}

// What happened to received models, from the engine's cheap checks (refused before they were
// queued) and the training thread's MergePolicy (everything after): the one place the status
// reads merge counters from.
void AddMergeStats(nlohmann::json& doc, const gossip::EngineStats& engine, const gossip::MergeStats& merge) {
  std::map<std::string, std::uint64_t> refused_by_peer = engine.rejected_by_peer;
  for (const auto& [peer, count] : merge.refused_by_peer) refused_by_peer[peer] += count;
  doc["merges"] = merge.merged;
  doc["merges_clipped"] = merge.clipped;
  doc["merges_capped"] = merge.capped;
  doc["merges_dropped"] = merge.dropped;
  doc["clip_radius"] = merge.clip_radius;
  doc["rejected_updates"] = engine.rejected_updates + merge.refused();
  doc["rejected_too_far"] = merge.refused_too_far;
  doc["rejected_by_peer"] = refused_by_peer;
  doc["update_norm_max"] = merge.update_norm_max;
}

}  // namespace

std::string RenderStatus(const StatusInputs& in) {
  nlohmann::json peers = nlohmann::json::array();
  for (const gossip::PeerStatus& p : in.peers) {
    if (peers.size() == kMaxStatusPeers) break;
    peers.push_back({{"id", p.id}, {"address", p.address}, {"state", gossip::PeerStateName(p.state)}, {"found_by", p.sources},
                     {"last_seen_s", p.last_seen_s}, {"exchanges", p.exchanges}, {"failures", p.failures},
                     {"codec", p.codec}, {"reply_codec", p.reply_codec}, {"flow", p.flow}});
  }
  const TrainingProgress& t = in.training;
  nlohmann::json doc = {
      {"id", in.id},
      {"cluster", in.cluster},
      {"role", in.role},
      {"uptime_s", in.uptime_s},
      {"listen", in.listen},
      {"signature", in.signature},
      {"model_age", t.model_age},
      {"samples_trained", t.samples_trained},
      {"epochs", t.epochs},
      {"offers_dropped", in.offers_dropped},
      {"train_loss", t.train_loss},
      {"samples_per_s", t.samples_per_s},
      {"learning_rate", t.learning_rate},
      {"interval_stretch", t.interval_stretch},
      {"validation", MetricsJson(t.validation)},
      {"eval", MetricsJson(t.eval)},
      {"scored_model", {{"path", in.scored_model_path}, {"age", t.scored_age},
                        {"weights", t.scored_smoothed ? "smoothed" : "raw"}, {"saved", t.scored_saved}}},
      {"exchanges_ok", in.engine.exchanges_ok},
      {"exchanges_failed", in.engine.exchanges_failed},
      {"frames_rejected", in.engine.frames_rejected},
      {"authenticated", in.authenticated},
      {"auth_failures", in.security.auth_failures},
      {"frames_throttled", in.security.frames_throttled},
      {"bytes_sent", in.engine.bytes_sent},
      {"bytes_received", in.engine.bytes_received},
      {"upload_bytes_per_s", in.engine.upload_bytes_per_s},
      {"exchanges_over_budget", in.engine.exchanges_over_budget},
      {"pushes_sent", in.engine.pushes_sent},
      {"reactive_sends", in.engine.reactive_sends},
      {"tokens", in.engine.tokens},
      {"peers", peers},
      {"peers_total", in.peers.size()},
      {"param_count", in.params.size()},
      {"param_sample", Sample(in.params)},
  };
  AddMergeStats(doc, in.engine, t.merge);
  doc["mode"] = in.rounds || (in.participant && in.participant->federated) ? "federated" : "gossip";
  if (in.participant) {
    doc["coordinator"] = in.participant->coordinator;
    doc["last_round_served"] = in.participant->last_round_served;
    doc["rounds_served"] = in.participant->rounds_served;
    doc["round_requests_refused"] = in.participant->requests_refused;
  }
  if (in.rounds) {
    const gossip::RoundStats& r = *in.rounds;
    doc["round"] = r.round;
    doc["participants"] = r.participants;
    doc["dropped"] = r.dropped;
    doc["dropped_total"] = r.dropped_total;
    doc["rounds_retried"] = r.rounds_retried;
    doc["rejected_replies"] = r.rejected_replies;
    doc["rejected_replies_by_peer"] = r.rejected_by_peer;
    doc["strategy"] = r.strategy;
    doc["last_round_ms"] = r.last_round_ms;
    doc["last_overhead_ms"] = r.last_overhead_ms;
    doc["mean_overhead_ms"] = r.mean_overhead_ms;
    doc["global"] = MetricsJson(in.global.metrics);
    doc["global_round"] = in.global.round;
    doc["global_on"] = in.global.on_eval_data ? "eval" : "validation";
    doc["global_history"] = in.global.history;  // [[round, accuracy], ...], oldest first
  }
  return doc.dump();
}

}  // namespace gl::node

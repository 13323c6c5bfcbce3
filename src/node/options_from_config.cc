#include "node/options_from_config.h"

#include "gossip/wire/codec.h"
#include "gossip/wire/model_codec.h"

namespace gl::node {

gossip::Options GossipOptionsFor(const Config& c, std::size_t param_count) {
  gossip::Options o = gossip::DefaultLanOptions();
  o.role = NameOf(c.role);
  o.gossip_interval = Ms(c.gossip_interval_s);
  o.exchange_timeout = Ms(c.exchange_timeout_s);
  o.probe_interval = Ms(c.probe_interval_s);
  o.dead_after_failures = c.dead_after_failures;
  switch (c.flow_control) {
    case FlowChoice::kPushPull: o.flow = gossip::FlowControl::kPushPull; break;
    case FlowChoice::kPush: o.flow = gossip::FlowControl::kPush; break;
    case FlowChoice::kTokenAccount: o.flow = gossip::FlowControl::kTokenAccount; break;
  }
  o.token_capacity = c.token_capacity;
  o.token_reactivity = c.token_reactivity;
  o.max_frames_per_second = c.max_frames_per_second;
  o.max_connections_per_host = static_cast<std::size_t>(c.max_connections_per_host);
  o.encrypt_frames = c.encrypt;
  o.codecs.clear();
  for (const std::string& name : c.codecs) o.codecs.push_back(*gossip::ParseCodec(name));  // validated
  o.max_upload_kbps = c.max_upload_kbps;
  o.max_frame_bytes = gossip::MaxBodyBytesForModel(param_count);
  return o;
}

nn::TrainerOptions TrainerOptionsFor(const Config& c) {
  nn::TrainerOptions trainer;
  trainer.learning_rate = static_cast<float>(c.learning_rate);
  trainer.dropout = static_cast<float>(c.dropout);
  trainer.class_weighting = c.class_weighting;
  return trainer;
}

gossip::MergePolicyOptions MergePolicyOptionsFor(const Config& c) {
  gossip::MergePolicyOptions m;
  m.max_update_norm = c.max_update_norm;
  m.clip_factor = c.clip_factor;
  m.clip_window = static_cast<std::size_t>(c.clip_window);
  m.clip_drop_factor = c.clip_drop_factor;
  m.clip_radial_share = c.clip_radial_share;
  switch (c.merge) {
    case MergeChoice::kAgeWeighted: m.rule = gossip::MergeRule::kAgeWeighted; break;
    case MergeChoice::kAverage: m.rule = gossip::MergeRule::kAverage; break;
    case MergeChoice::kTrimmedMean: m.rule = gossip::MergeRule::kTrimmedMean; break;
  }
  m.trimmed_mean_window = static_cast<std::size_t>(c.merge_window);
  return m;
}

TrainingLoopOptions TrainingLoopOptionsFor(const Config& c) {
  TrainingLoopOptions t;
  t.batch_size = c.batch_size;
  t.eval_interval = Ms(c.eval_interval_s);
  t.checkpoint_interval = Ms(c.checkpoint_interval_s);
  t.merge = MergePolicyOptionsFor(c);
  t.seed = c.seed;
  t.min_epoch_duration = Ms(c.gossip_interval_s * c.intervals_per_epoch);
  t.min_epoch_samples = static_cast<std::size_t>(c.min_epoch_samples);
  t.trainer = TrainerOptionsFor(c);
  t.consensus_pull = static_cast<float>(c.consensus_pull);
  t.learning_rate = LearningRateSchedule{static_cast<float>(c.learning_rate), c.lr_half_life_epochs,
                                         static_cast<float>(c.min_learning_rate)};
  t.interval_stretch = IntervalStretch{c.interval_stretch_start, c.interval_stretch_max};
  return t;
}

gossip::FedAvgOptions FedAvgOptionsFor(const Config& c) {
  gossip::FedAvgOptions f;
  f.fraction = c.fraction;
  f.min_nodes = static_cast<std::uint32_t>(c.min_nodes);
  f.config = gossip::RoundConfig{static_cast<std::uint32_t>(c.local_epochs), static_cast<std::uint32_t>(c.batch_size),
                                 static_cast<float>(c.client_lr),
                                 c.client_optimizer == ClientOptimizerChoice::kSgd ? gossip::LocalOptimizer::kSgd
                                                                                   : gossip::LocalOptimizer::kAdam};
  f.seed = c.seed;
  f.server = gossip::ServerOptimizerOptions{NameOf(c.server_optimizer), c.server_lr, c.server_momentum, c.server_tau};
  f.lr_decay = c.lr_decay;
  return f;
}

gossip::RoundDriverOptions RoundDriverOptionsFor(const Config& c) {
  gossip::RoundDriverOptions r;
  r.min_nodes = static_cast<std::uint32_t>(c.min_nodes);
  r.round_deadline = Ms(c.round_deadline_s);
  r.coordinator_trains = c.coordinator_trains;
  r.max_update_norm = c.max_update_norm;
  return r;
}

}  // namespace gl::node

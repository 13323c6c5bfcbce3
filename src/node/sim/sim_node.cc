#include "node/sim/sim_node.h"

#include <algorithm>
#include <numeric>

#include "node/consensus_pull.h"
#include "node/interval_stretch.h"
#include "node/local_epoch.h"
#include "node/round_task.h"

namespace gl::node::sim {

SimNode::SimNode(std::string id, std::unique_ptr<nn::Model> model, nn::Dataset train, const TrainingSchedule& schedule,
                 std::uint64_t seed)
    : id_(std::move(id)),
      address_(id_ + ":7070"),
      model_(std::move(model)),
      train_(std::move(train)),
      schedule_(schedule),
      rng_(seed),
      merge_state_(schedule.loop.merge),
      smoothed_(schedule.loop.smoothing_merges) {
  local_.signature = model_->Signature();
  local_.local_samples = train_.examples.size();
}

SimNode::~SimNode() { GoOffline(); }

gossip::ModelSnapshot SimNode::Snapshot() {
  return gossip::ModelSnapshot{local_.signature, model_->GetParameters(), local_.age, local_.local_samples};
}

void SimNode::Offer(gossip::ReceivedModel remote) {
  if (pending_.size() >= schedule_.max_pending_offers) pending_.erase(pending_.begin());
  pending_.push_back(std::move(remote));
}

void SimNode::ApplyScheduledTrainer() {
  nn::TrainerOptions trainer = schedule_.loop.trainer;
  trainer.learning_rate = schedule_.loop.learning_rate.At(epochs_);
  model_->SetTrainerOptions(trainer);
  interval_stretch_ = schedule_.loop.interval_stretch.At(schedule_.loop.learning_rate, epochs_);
  if (engine_) engine_->SetIntervalStretch(interval_stretch_);
}

void SimNode::StartEpoch(gossip::Clock::time_point now) {
  epoch_started_ = now;
  merges_at_epoch_start_ = merges_;
  ApplyScheduledTrainer();
  LocalEpochOrder(order_, train_.examples.size(), schedule_.loop.min_epoch_samples, rng_);
  next_in_epoch_ = 0;
}

std::size_t SimNode::TrainSlice(const std::vector<std::size_t>& order, std::size_t begin, std::size_t size) {
  const std::size_t end = std::min(order.size(), begin + size);
  batch_.clear();
  for (std::size_t i = begin; i < end; ++i) batch_.push_back(train_.examples[order[i]]);
  model_->TrainBatch(batch_);
  return end;
}

gossip::Clock::time_point SimNode::TrainStep(gossip::Clock::time_point now) {
  const gossip::Clock::duration min_epoch = schedule_.loop.min_epoch_duration;
  if (federated_) return now + std::max(min_epoch, gossip::Clock::duration(std::chrono::seconds(1)));
  if (next_in_epoch_ >= order_.size()) StartEpoch(now);
  next_in_epoch_ = TrainSlice(order_, next_in_epoch_, static_cast<std::size_t>(schedule_.loop.batch_size));
  samples_trained_ += batch_.size();
  local_.age = gossip::SaturatingAdd(local_.age, batch_.size());
  PullTowardConsensus(*model_, smoothed_, schedule_.loop.consensus_pull);
  if (!pending_.empty()) {
    local_.params = model_->GetParameters();
    std::vector<std::vector<float>> merged_models;
    const std::size_t merged = MergeReceived(merge_state_, local_, pending_, samples_trained_, merged_models);
    pending_.clear();
    if (merged > 0 && model_->SetParameters(local_.params).ok()) {
      for (const std::vector<float>& peer_model : merged_models) smoothed_.Add(peer_model);
      merges_ += merged;
    }
    local_.params = {};
  }
  const auto step = std::chrono::duration_cast<gossip::Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(batch_.size()) / schedule_.samples_per_s));
  if (next_in_epoch_ < order_.size()) return now + step;
  ++epochs_;
  // A node that went a while without a merge has no cluster to estimate (TrainingLoop).
  epochs_without_merge_ = merges_ == merges_at_epoch_start_ ? epochs_without_merge_ + 1 : 0;
  if (ConsensusEstimateStale(epochs_without_merge_, interval_stretch_)) {
    smoothed_ = ParameterEma(schedule_.loop.smoothing_merges);
  }
  return std::max(now + step, epoch_started_ + min_epoch);
}

double SimNode::Score(const nn::Dataset& data) {
  const std::vector<float>* scored = nullptr;
  if (federated_ && !last_global_.empty()) {
    scored = &last_global_;
  } else if (!smoothed_.empty()) {
    scored = &smoothed_.value();
  }
  if (scored == nullptr) return model_->Evaluate(data).accuracy;
  const std::vector<float> raw = model_->GetParameters();
  if (!model_->SetParameters(*scored).ok()) return model_->Evaluate(data).accuracy;
  const double accuracy = model_->Evaluate(data).accuracy;
  model_->SetParameters(raw);
  return accuracy;
}

Status SimNode::GoOnline(asio::io_context& io, gossip::InMemoryNetwork& network, const gossip::Options& options,
                         const std::vector<std::string>& peers, bool serve_rounds) {
  if (engine_) return Status::InvalidArgument(id_ + " is online already");
  transport_ = network.NewTransport(address_);
  gossip::Options mine = options;
  mine.node_id = id_;
  engine_ = std::make_unique<gossip::Engine>(io, mine, *transport_, *this);
  if (Status s = engine_->Start(); !s.ok()) {
    engine_.reset();
    transport_.reset();
    return s;
  }
  engine_->SetIntervalStretch(interval_stretch_);
  for (const std::string& peer : peers) engine_->AddPeer(peer, "static");
  io_ = &io;
  if (serve_rounds) {
    participant_ = std::make_unique<gossip::RoundParticipant>(
        io, gossip::ParticipantOptions{id_, local_.signature, model_->ParameterCount()}, *engine_, *this);
    participant_->Start();
  }
  return Status::Ok();
}

void SimNode::GoOffline() {
  if (!engine_) return;
  bytes_sent_offline_ += engine_->Stats().bytes_sent;
  participant_.reset();  // before the engine it answers through
  federated_ = false;
  engine_.reset();  // stops it, and it shuts the transport down
  transport_.reset();
  pending_.clear();
}

std::uint64_t SimNode::bytes_sent() const {
  return bytes_sent_offline_ + (engine_ ? engine_->Stats().bytes_sent : 0);
}

std::size_t SimNode::dead_peers() const {
  if (!engine_) return 0;
  const std::vector<gossip::PeerStatus> peers = engine_->Peers();
  return static_cast<std::size_t>(
      std::count_if(peers.begin(), peers.end(), [](const gossip::PeerStatus& p) { return p.state == gossip::PeerState::kDead; }));
}

}  // namespace gl::node::sim

namespace gl::node::sim {

void SimNode::Train(std::uint64_t /*round*/, std::vector<float> global, const gossip::RoundConfig& config,
                    TrainDone done) {
  if (Status s = model_->SetParameters(global); !s.ok()) return done(s);
  last_global_ = global;
  smoothed_ = ParameterEma(schedule_.loop.smoothing_merges);  // a round's model is scored as it is
  nn::TrainerOptions trainer = schedule_.loop.trainer;
  trainer.learning_rate = config.learning_rate;
  trainer.optimizer = OptimizerFor(config.optimizer);
  model_->SetTrainerOptions(trainer);
  std::vector<std::size_t> order(train_.examples.size());
  std::iota(order.begin(), order.end(), 0);
  for (std::uint32_t epoch = 0; epoch < config.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng_);
    for (std::size_t begin = 0; begin < order.size();) begin = TrainSlice(order, begin, config.batch_size);
    ++epochs_;
  }
  gossip::LocalTraining result{model_->GetParameters(), train_.examples.size(), 0};
  if (!gossip::AllFinite(result.params)) {
    model_->SetParameters(global);
    return done(Status::Rejected("round training made the model non-finite"));
  }
  const double seconds =
      static_cast<double>(config.epochs * train_.examples.size()) / schedule_.samples_per_s;
  result.train_ms = static_cast<std::uint64_t>(seconds * 1000);
  auto timer = std::make_shared<gossip::Timer>(*io_, std::chrono::duration_cast<gossip::Clock::duration>(
                                                          std::chrono::duration<double>(seconds)));
  timer->async_wait([timer, done = std::move(done), result = std::move(result)](const std::error_code&) mutable {
    done(std::move(result));
  });
}

void SimNode::SetFederated(bool federated, const std::vector<float>& last_global) {
  federated_ = federated;
  pending_.clear();  // models gossiped before or during federated mode are stale
  if (!federated && !last_global.empty()) model_->SetParameters(last_global);
  if (!federated) ApplyScheduledTrainer();  // not the rounds' optimizer and learning rate
}

}  // namespace gl::node::sim

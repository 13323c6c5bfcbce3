#include "node/training_loop.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <random>

#include "common/log.h"
#include "node/consensus_pull.h"
#include "node/local_epoch.h"

namespace gl::node {
namespace {

bool Due(Clock::time_point last, std::chrono::milliseconds interval) {
  return interval.count() > 0 && Clock::now() - last >= interval;
}
}  // namespace

TrainingLoop::TrainingLoop(std::unique_ptr<nn::Model> model, nn::Dataset train, nn::Dataset validation,
                           std::optional<nn::Dataset> eval, SharedModel& shared, Checkpointer& checkpointer,
                           TrainingLoopOptions options, CheckpointMeta start)
    : model_(std::move(model)),
      train_(std::move(train)),
      validation_(std::move(validation)),
      eval_(std::move(eval)),
      shared_(shared),
      checkpointer_(checkpointer),
      options_(options),
      merge_policy_(options_.merge),
      task_rng_(options.seed) {
  local_.signature = model_->Signature();
  local_.local_samples = train_.examples.size();
  progress_.model_age = start.age;
  progress_.epochs = start.epochs;
}

TrainingLoop::~TrainingLoop() { Stop(); }

void TrainingLoop::Start() { thread_ = std::thread([this] { Run(); }); }

void TrainingLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(tasks_mutex_);
    stop_ = true;
  }
  tasks_changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::deque<RoundTask> left;
  {
    std::lock_guard<std::mutex> lock(tasks_mutex_);
    left.swap(tasks_);
  }
  for (RoundTask& task : left) {
    if (task.done) task.done(Status::Unavailable("node shutting down"));
  }
}

void TrainingLoop::Submit(RoundTask task) {
  {
    std::lock_guard<std::mutex> lock(tasks_mutex_);
    if (!stop_) {
      tasks_.push_back(std::move(task));
      task.done = nullptr;
    }
  }
  tasks_changed_.notify_all();
  if (task.done) task.done(Status::Unavailable("node shutting down"));
}

void TrainingLoop::SetFederated(bool federated, std::vector<float> resume_from) {
  {
    std::lock_guard<std::mutex> lock(tasks_mutex_);
    federated_ = federated;
    // Models gossiped before or during federated mode are stale once it ends.
    if (!federated) shared_.TakeOffers();
    if (!federated && !resume_from.empty()) {
      RoundTask resume;
      resume.params = std::move(resume_from);
      tasks_.push_back(std::move(resume));
    }
  }
  tasks_changed_.notify_all();
}

bool TrainingLoop::Federated() {
  std::lock_guard<std::mutex> lock(tasks_mutex_);
  return federated_;
}

bool TrainingLoop::TaskModeWanted() {
  std::lock_guard<std::mutex> lock(tasks_mutex_);
  return federated_ || !tasks_.empty();
}

void TrainingLoop::ServeTasks() {
  RoundTask task;
  {
    std::unique_lock<std::mutex> lock(tasks_mutex_);
    tasks_changed_.wait(lock, [this] { return stop_ || !tasks_.empty() || !federated_; });
    if (stop_ || tasks_.empty()) return;
    task = std::move(tasks_.front());
    tasks_.pop_front();
  }
  Result<RoundTaskResult> result = RunTask(task);
  if (task.done) task.done(std::move(result));
  // A participant's own scores (status), now and then, after the reply has gone out.
  if (task.epochs > 0 && Due(last_task_eval_, options_.eval_interval)) {
    Evaluate();
    last_task_eval_ = Clock::now();
  }
}

Result<RoundTaskResult> TrainingLoop::RunTask(const RoundTask& task) {
  if (task.epochs > 0 && task.batch_size == 0) return Status::InvalidArgument("round task with batch size 0");
  // What a round's training may not replace with non-finite values.
  const std::vector<float> before = task.epochs > 0 ? model_->GetParameters() : std::vector<float>();
  if (Status s = model_->SetParameters(task.params); !s.ok()) return s;
  smoothed_ = ParameterEma(options_.smoothing_merges);  // a round's model is scored as it is
  merge_policy_.ForgetWindow();  // models gossiped before the task are stale now
  RoundTaskResult result;
  result.samples = train_.examples.size();
  const Clock::time_point start = Clock::now();
  if (task.epochs > 0) {
    nn::TrainerOptions trainer = options_.trainer;
    trainer.learning_rate = task.learning_rate;
    trainer.optimizer = task.optimizer;
    model_->SetTrainerOptions(trainer);
    std::vector<std::size_t> order(train_.examples.size());
    std::iota(order.begin(), order.end(), 0);
    bool abandoned = false;
    for (std::uint32_t epoch = 0; epoch < task.epochs && !stop_ && !abandoned; ++epoch) {
      std::shuffle(order.begin(), order.end(), task_rng_);
      for (std::size_t begin = 0; begin < order.size() && !stop_ && !(abandoned = !Federated());
           begin += task.batch_size) {
        TrainSlice(order, begin, task.batch_size);
      }
      std::lock_guard<std::mutex> lock(progress_mutex_);
      ++progress_.epochs;
    }
    model_->SetTrainerOptions(options_.trainer);
    if (stop_) return Status::Unavailable("node shutting down");
    if (abandoned) return Status::Unavailable("round abandoned: this node no longer follows its coordinator");
  }
  result.train_ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
  if (task.epochs > 0 && result.train_ms > 0) {
    std::lock_guard<std::mutex> lock(progress_mutex_);
    progress_.samples_per_s = 1000.0 * static_cast<double>(task.epochs * train_.examples.size()) / result.train_ms;
  }
  result.params = model_->GetParameters();
  if (!gossip::AllFinite(result.params)) {
    model_->SetParameters(before);
    return Status::Rejected("training with learning rate " + std::to_string(task.learning_rate) +
                            " made the model non-finite; the model from before the round is kept");
  }
  shared_.Publish(result.params, Progress().model_age);
  if (task.evaluate) {
    Evaluate();
    const TrainingProgress p = Progress();
    result.validation = p.validation;
    result.eval = p.eval;
  }
  if (task.checkpoint) SaveCheckpoint();
  return result;
}

TrainingProgress TrainingLoop::Progress() const {
  std::lock_guard<std::mutex> lock(progress_mutex_);
  return progress_;
}

void TrainingLoop::Run() {
  std::mt19937_64 rng(options_.seed);
  std::vector<std::size_t> order;
  Clock::time_point last_eval = Clock::now(), last_checkpoint = Clock::now();
  Clock::time_point rate_start = Clock::now();
  std::uint64_t rate_samples = 0;
  Evaluate();

  while (!stop_) {
    if (TaskModeWanted()) {
      ServeTasks();
      continue;
    }
    const Clock::time_point epoch_started = Clock::now();
    const std::uint64_t merges_before = Progress().merge.merged;
    ApplyScheduledLearningRate();
    LocalEpochOrder(order, train_.examples.size(), options_.min_epoch_samples, rng);
    for (std::size_t begin = 0; begin < order.size() && !stop_ && !TaskModeWanted();
         begin += options_.batch_size) {
      rate_samples += TrainSlice(order, begin, options_.batch_size);
      PullTowardConsensus(*model_, smoothed_, options_.consensus_pull);
      MergeOffers();
      {
        std::lock_guard<std::mutex> lock(progress_mutex_);
        const double seconds = std::chrono::duration<double>(Clock::now() - rate_start).count();
        if (seconds >= 2) {
          progress_.samples_per_s = rate_samples / seconds;
          rate_start = Clock::now();
          rate_samples = 0;
        }
      }
      const std::vector<float> params = model_->GetParameters();
      shared_.Publish(params, Progress().model_age);
      if (Due(last_eval, options_.eval_interval)) {
        Evaluate();
        last_eval = Clock::now();
      }
      if (Due(last_checkpoint, options_.checkpoint_interval)) {
        SaveCheckpoint();
        last_checkpoint = Clock::now();
      }
    }
    if (stop_) break;
    if (TaskModeWanted()) continue;  // the epoch was cut short by coordinator mode
    {
      std::lock_guard<std::mutex> lock(progress_mutex_);
      ++progress_.epochs;
      epochs_without_merge_ = progress_.merge.merged == merges_before ? epochs_without_merge_ + 1 : 0;
      if (ConsensusEstimateStale(epochs_without_merge_, progress_.interval_stretch)) {
        smoothed_ = ParameterEma(options_.smoothing_merges);
      }
    }
    PaceEpoch(epoch_started);
  }
  Evaluate();
  // In coordinator mode the model between tasks is a local update, not the global model
  // (which RoundTasks checkpoint): saving it would let a restart resume from the wrong one.
  bool federated;
  {
    std::lock_guard<std::mutex> lock(tasks_mutex_);
    federated = federated_;
  }
  if (!federated) SaveCheckpoint();
}

std::size_t TrainingLoop::TrainSlice(const std::vector<std::size_t>& order, std::size_t begin,
                                     std::size_t batch_size) {
  const std::size_t end = std::min(order.size(), begin + batch_size);
  batch_.clear();
  for (std::size_t i = begin; i < end; ++i) batch_.push_back(train_.examples[order[i]]);
  const float loss = model_->TrainBatch(batch_);
  std::lock_guard<std::mutex> lock(progress_mutex_);
  const bool first = progress_.samples_trained == 0;
  progress_.model_age = gossip::SaturatingAdd(progress_.model_age, batch_.size());
  progress_.samples_trained += batch_.size();
  progress_.train_loss = first ? loss : 0.95 * progress_.train_loss + 0.05 * loss;
  return batch_.size();
}

void TrainingLoop::ApplyScheduledLearningRate() {
  nn::TrainerOptions trainer = options_.trainer;
  double stretch;
  {
    std::lock_guard<std::mutex> lock(progress_mutex_);
    trainer.learning_rate = options_.learning_rate.At(progress_.epochs);
    progress_.learning_rate = trainer.learning_rate;
    stretch = progress_.interval_stretch = options_.interval_stretch.At(options_.learning_rate, progress_.epochs);
  }
  model_->SetTrainerOptions(trainer);
  if (options_.on_interval_stretch) options_.on_interval_stretch(stretch);
}

void TrainingLoop::PaceEpoch(Clock::time_point epoch_started) {
  if (options_.min_epoch_duration.count() <= 0) return;
  std::unique_lock<std::mutex> lock(tasks_mutex_);
  tasks_changed_.wait_until(lock, epoch_started + options_.min_epoch_duration,
                            [this] { return stop_ || federated_ || !tasks_.empty(); });
}

void TrainingLoop::MergeOffers() {
  std::vector<gossip::ReceivedModel> offers = shared_.TakeOffers();
  if (offers.empty()) return;
  local_.params = model_->GetParameters();
  const TrainingProgress before = Progress();
  local_.age = before.model_age;
  bool applied = false;
  std::vector<std::vector<float>> merged_models;
  if (merge_policy_.Merge(std::move(offers), local_, &merged_models) > 0) {
    const Status s = model_->SetParameters(local_.params);
    applied = s.ok();
    if (applied) {
      for (const std::vector<float>& peer_model : merged_models) smoothed_.Add(peer_model);
    }
    // Cannot happen for screened offers; never poison the model.
    if (!applied) GL_LOG(kError, "train") << "merged parameters refused, keeping the local model: " << s.ToString();
  }
  std::lock_guard<std::mutex> lock(progress_mutex_);
  progress_.merge = merge_policy_.stats();
  if (!applied) return;
  progress_.model_age =
      gossip::BoundedMergedAge(before.model_age, local_.age, before.samples_trained - samples_at_last_merge_);
  samples_at_last_merge_ = before.samples_trained;
}

void TrainingLoop::Evaluate() {
  // Score the smoothed parameters (what this node would serve), then train on from the raw ones.
  std::vector<float> raw;
  if (!smoothed_.empty()) {
    raw = model_->GetParameters();
    if (!model_->SetParameters(smoothed_.value()).ok()) raw.clear();
  }
  const bool smoothed = !raw.empty();
  nn::Metrics validation = model_->Evaluate(validation_);
  std::optional<nn::Metrics> eval;
  if (eval_) eval = model_->Evaluate(*eval_);
  // Written before the scores are published: the status never names a file older than them.
  const Status exported = checkpointer_.Export(*model_);
  if (!exported.ok()) GL_LOG(kError, "train") << "scored model not saved: " << exported.ToString();
  if (smoothed) model_->SetParameters(raw);
  TrainingProgress p;
  {
    std::lock_guard<std::mutex> lock(progress_mutex_);
    progress_.validation = validation;
    progress_.eval = eval;
    progress_.scored_age = progress_.model_age;
    progress_.scored_smoothed = smoothed;
    progress_.scored_saved = exported.ok();
    p = progress_;
  }
  char eval_text[16] = "-";
  if (eval) std::snprintf(eval_text, sizeof eval_text, "%.1f%%", 100 * eval->accuracy);
  char line[256];
  std::snprintf(line, sizeof line,
                "epoch %llu  age %llu  lr %.2g  loss %.4f  validation acc %.1f%% F1 %.3f  eval acc %s  %.0f samples/s  "
                "merges %llu  scored: %s weights, ",
                static_cast<unsigned long long>(p.epochs), static_cast<unsigned long long>(p.model_age),
                p.learning_rate, p.train_loss,
                100 * validation.accuracy, validation.macro_f1, eval_text, p.samples_per_s,
                static_cast<unsigned long long>(p.merge.merged), smoothed ? "smoothed" : "raw");
  GL_LOG(kInfo, "train") << line << (exported.ok() ? "saved to " : "NOT saved to ") << checkpointer_.exported_path();
}

void TrainingLoop::SaveCheckpoint() {
  const TrainingProgress p = Progress();
  Status s = checkpointer_.Save(model_->Signature(), model_->GetParameters(), CheckpointMeta{p.model_age, p.epochs});
  if (!s.ok()) GL_LOG(kError, "train") << "checkpoint failed (training goes on): " << s.ToString();
}

}  // namespace gl::node

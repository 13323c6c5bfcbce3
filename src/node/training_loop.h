// TrainingLoop: the node's training thread. It owns the nn::Model.
//
// Loop: shuffle the local training set (local_epoch.h), train minibatch after minibatch; after each
// minibatch pull the parameters a little toward the peers' average (consensus_pull.h) and merge the remote models queued in SharedModel through its MergePolicy
// (gossip/merge/merge_policy.h: screen, bounds, rule; the age a merge adds is bounded by
// gossip::BoundedMergedAge) and publish the result; an
// epoch shorter than min_epoch_duration waits out the rest. Every
// eval_interval it scores the model on the local validation split (and on the common
// eval set, if any): the running average of the peers' models it merged (see
// TrainingLoopOptions::smoothing_merges), and exports what it scored to model.bin
// (checkpoint.h); every checkpoint_interval it saves a checkpoint of the raw weights. Stop() ends the
// loop after the current minibatch, saves a final checkpoint and joins the thread.
// Coordinator mode: Submit() queues a RoundTask, run at the next minibatch
// boundary; while federated (SetFederated) the loop does no free training, it only runs
// tasks. A task whose training leaves a non-finite value fails and the model stays as it was;
// a task that trains epochs stops (fails) at the next minibatch once federated mode ends: the
// node no longer follows the coordinator that asked for it. Progress(), Submit() and
// SetFederated() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "gossip/merge/merge_policy.h"
#include "nn/model.h"
#include "node/checkpoint.h"
#include "node/interval_stretch.h"
#include "node/learning_rate.h"
#include "node/parameter_ema.h"
#include "node/round_task.h"
#include "node/shared_model.h"

namespace gl::node {

using Clock = std::chrono::steady_clock;

struct TrainingProgress {
  std::uint64_t model_age = 0;      // samples folded into the model (own training + merged)
  std::uint64_t samples_trained = 0;  // own training samples since start
  std::uint64_t epochs = 0;
  gossip::MergeStats merge;         // what the MergePolicy did with the received models
  double train_loss = 0;            // moving average over recent minibatches
  double samples_per_s = 0;         // own training rate, recent
  double learning_rate = 0;         // of free training, in the current epoch
  double interval_stretch = 1;      // gossip_interval x this between exchanges (interval_stretch.h)
  // The scores of the last evaluation, and what they are of: the model then exported to
  // Checkpointer::exported_path() (model.bin), so that the file a user takes home is the one
  // whose accuracy the node reports. Raw checkpoints (model.ckpt) only resume training.
  std::optional<nn::Metrics> validation;
  std::optional<nn::Metrics> eval;
  std::uint64_t scored_age = 0;   // model_age when it was scored
  bool scored_smoothed = false;   // the smoothed (averaged) weights, else the raw ones
  bool scored_saved = false;      // written to model.bin (false: the write failed, see the log)
};

struct TrainingLoopOptions {
  int batch_size = 32;
  std::chrono::milliseconds eval_interval{10000};        // 0 = never during the run
  std::chrono::milliseconds checkpoint_interval{30000};  // 0 = only at Stop()
  // How received models are screened, bounded and merged (gossip/merge/merge_policy.h).
  gossip::MergePolicyOptions merge;
  // A local epoch that ends sooner than this waits out the rest (0 = never wait). Bounds
  // how far a model drifts toward its local data between merges: on non-IID data a node
  // with a small shard would otherwise train on it many times between two exchanges,
  // while the other nodes' data reaches it only through merges.
  std::chrono::milliseconds min_epoch_duration{0};
  // A local epoch trains at least this many samples: whole passes over a smaller shard
  // (local_epoch.h), so that pacing and learning-rate decay mean the same on a tiny shard.
  std::size_t min_epoch_samples = 0;
  std::uint64_t seed = 1;
  // Evaluation scores an exponential moving average of the last ~this many models merged
  // from peers (as the merge policy bounded them): the node's running estimate of the
  // cluster's consensus. Each model drifts toward its own shard between merges; the peers'
  // drifts point apart and average out, while the node's own would not, and a node with a
  // skewed shard would score under the others (bench/RESULTS.md "Scoring the peers'
  // models"); the average also smooths the noise of the steps. A node that went a whole
  // local epoch without a merge has no cluster to estimate: the average restarts and the
  // raw parameters are scored. 8 (about two local epochs at the default pacing) follows a
  // learning model without lag (bench/RESULTS.md "Scoring window and delta replies").
  // 0 = always score the raw parameters.
  std::size_t smoothing_merges = 8;
  // After each minibatch of free training the parameters move this share of the way toward
  // that average (node/consensus_pull.h): it bounds each model's drift toward its own shard.
  // 0 = off; the average must be on (smoothing_merges > 0) for it to act.
  float consensus_pull = 0.0025f;
  // The model's trainer settings; a RoundTask overrides the learning rate for its epochs.
  nn::TrainerOptions trainer;
  // The learning rate of free training, set at the start of each local epoch (overrides
  // trainer.learning_rate there).
  LearningRateSchedule learning_rate;
  // How the gossip interval follows that rate once it has decayed (interval_stretch.h; off
  // by default): at the start of each local epoch of free training, on the training thread,
  // the loop passes the factor to `on_interval_stretch` (the node's gossip engine; none =
  // nothing to tell).
  IntervalStretch interval_stretch;
  std::function<void(double)> on_interval_stretch;
};

class TrainingLoop {
 public:
  // `shared` and `checkpointer` must outlive this object.
  TrainingLoop(std::unique_ptr<nn::Model> model, nn::Dataset train, nn::Dataset validation,
               std::optional<nn::Dataset> eval, SharedModel& shared, Checkpointer& checkpointer,
               TrainingLoopOptions options, CheckpointMeta start);
  ~TrainingLoop();
  TrainingLoop(const TrainingLoop&) = delete;
  TrainingLoop& operator=(const TrainingLoop&) = delete;

  void Start();
  void Stop();  // idempotent
  TrainingProgress Progress() const;

  // Queues a task; tasks run in order. At Stop() queued tasks end with Unavailable.
  void Submit(RoundTask task);
  // Federated: only run tasks. Leaving it with non-empty `resume_from` sets the model to
  // those parameters before free training resumes.
  void SetFederated(bool federated, std::vector<float> resume_from);

 private:
  void Run();
  // Training thread: waits while federated with nothing queued, then runs one queued task.
  void ServeTasks();
  Result<RoundTaskResult> RunTask(const RoundTask& task);
  bool TaskModeWanted();
  bool Federated();
  // Trains the minibatch order[begin, begin + batch_size) and counts it in the progress;
  // returns its size.
  std::size_t TrainSlice(const std::vector<std::size_t>& order, std::size_t begin, std::size_t batch_size);
  void PaceEpoch(Clock::time_point epoch_started);
  // Sets the learning rate of the epoch about to start, and tells on_interval_stretch its factor.
  void ApplyScheduledLearningRate();
  // Merges the queued offers through merge_policy_ into the model, and counts.
  void MergeOffers();
  void Evaluate();
  void SaveCheckpoint();

  std::unique_ptr<nn::Model> model_;
  nn::Dataset train_;
  nn::Dataset validation_;
  std::optional<nn::Dataset> eval_;
  SharedModel& shared_;
  Checkpointer& checkpointer_;
  TrainingLoopOptions options_;
  ParameterEma smoothed_{options_.smoothing_merges};  // training thread only
  std::vector<nn::Example> batch_;  // training thread only: reused minibatch buffer
  gossip::ModelSnapshot local_;  // training thread only: signature + scratch for merging
  gossip::MergePolicy merge_policy_;  // training thread only
  std::uint64_t samples_at_last_merge_ = 0;  // training thread only: bounds what a merge adds to the age
  std::uint64_t epochs_without_merge_ = 0;  // training thread only

  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex progress_mutex_;
  TrainingProgress progress_;  // guarded by progress_mutex_

  std::mutex tasks_mutex_;
  std::condition_variable tasks_changed_;
  std::deque<RoundTask> tasks_;  // guarded by tasks_mutex_
  bool federated_ = false;       // guarded by tasks_mutex_
  std::mt19937_64 task_rng_;     // training thread: shuffling in tasks
  std::chrono::steady_clock::time_point last_task_eval_;  // training thread
};

}  // namespace gl::node

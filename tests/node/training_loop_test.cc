// TrainingLoop on a real (tiny) model: what a bad or orphaned round cannot do, and the merge
// path of free training (offers through SharedModel into the MergePolicy).
#include "node/training_loop.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

namespace gl::node {
namespace {

using std::chrono::seconds;

bool AllFinite(const std::vector<float>& params) {
  for (float p : params) {
    if (!std::isfinite(p)) return false;
  }
  return true;
}

class TrainingLoopTest : public ::testing::Test {
 protected:
  TrainingLoopTest() : dir_(::testing::TempDir() + "/training_loop_test_" + std::to_string(::getpid())) {}

  void SetUp() override {
    TrainingLoopOptions t;
    t.eval_interval = std::chrono::milliseconds(0);
    t.checkpoint_interval = std::chrono::milliseconds(0);
    Build(t, /*federated=*/true);  // a participant that follows a coordinator
  }

  void Build(const TrainingLoopOptions& t, bool federated) {
    std::filesystem::create_directories(dir_);
    nn::ModelOptions options;
    options.hidden_size = 8;
    std::unique_ptr<nn::Model> model = std::move(nn::Model::Create(options)).value();
    initial_ = model->GetParameters();
    nn::Dataset train{nn::DefaultLabels(), {}};
    for (int i = 0; i < 64; ++i) train.examples.push_back(nn::Example{"Name" + std::string(1, 'a' + i % 26), i % 18});
    shared_ = std::make_unique<SharedModel>(gossip::ModelSnapshot{model->Signature(), initial_, 0, 64});
    checkpointer_ = std::make_unique<Checkpointer>(dir_);
    loop_ = std::make_unique<TrainingLoop>(std::move(model), train, train, std::nullopt, *shared_, *checkpointer_, t,
                                           CheckpointMeta{});
    if (federated) loop_->SetFederated(true, {});
    loop_->Start();
  }
  ~TrainingLoopTest() override {
    if (loop_) loop_->Stop();
    std::filesystem::remove_all(dir_);
  }

  // Submits `task`; its result, or Timeout if it has not ended within `deadline`.
  // Polls `condition` until it holds or `deadline` passes.
  template <typename Condition>
  static bool WaitFor(Condition condition, std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!condition()) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  std::future<Result<RoundTaskResult>> Submit(RoundTask task) {
    auto done = std::make_shared<std::promise<Result<RoundTaskResult>>>();
    std::future<Result<RoundTaskResult>> result = done->get_future();
    task.done = [done](Result<RoundTaskResult> r) { done->set_value(std::move(r)); };
    loop_->Submit(std::move(task));
    return result;
  }

  RoundTask Training(float learning_rate, std::uint32_t epochs, std::uint32_t batch_size) const {
    RoundTask task;
    task.params = initial_;
    task.epochs = epochs;
    task.batch_size = batch_size;
    task.learning_rate = learning_rate;
    return task;
  }

  std::string dir_;
  std::vector<float> initial_;
  std::unique_ptr<SharedModel> shared_;
  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<TrainingLoop> loop_;
};

TEST_F(TrainingLoopTest, AnEpochOfASmallShardTrainsWholePassesUpToTheMinimumSamples) {
  loop_.reset();
  TrainingLoopOptions t;
  t.eval_interval = std::chrono::milliseconds(0);
  t.checkpoint_interval = std::chrono::milliseconds(0);
  t.min_epoch_samples = 200;  // 64 names: 4 passes, 256 samples an epoch
  Build(t, /*federated=*/false);
  ASSERT_TRUE(WaitFor([&] { return loop_->Progress().epochs >= 2; }, seconds(30)));
  const TrainingProgress p = loop_->Progress();
  // Samples are counted per minibatch, the epoch after its last one: in between, the samples
  // are (epochs + 1) x 256.
  EXPECT_GE(p.samples_trained, p.epochs * 256);
  EXPECT_LE(p.samples_trained, (p.epochs + 1) * 256);
}

// Each epoch of free training tells the node (its gossip engine) the interval stretch of its
// learning rate: here the rate halves every epoch, so the stretch doubles from the second
// epoch on and stops at the maximum.
TEST_F(TrainingLoopTest, EachEpochTellsTheNodeTheIntervalStretchOfItsLearningRate) {
  loop_.reset();
  auto seen = std::make_shared<std::vector<double>>();
  auto seen_mutex = std::make_shared<std::mutex>();
  TrainingLoopOptions t;
  t.eval_interval = std::chrono::milliseconds(0);
  t.checkpoint_interval = std::chrono::milliseconds(0);
  t.learning_rate = LearningRateSchedule{0.01f, 1, 0};
  t.interval_stretch = IntervalStretch{/*start_halvings=*/1, /*max=*/4};
  t.on_interval_stretch = [seen, seen_mutex](double factor) {
    std::lock_guard<std::mutex> lock(*seen_mutex);
    seen->push_back(factor);
  };
  Build(t, /*federated=*/false);
  const auto count = [&] {
    std::lock_guard<std::mutex> lock(*seen_mutex);
    return seen->size();
  };
  ASSERT_TRUE(WaitFor([&] { return count() >= 5; }, seconds(30)));
  loop_->Stop();
  std::lock_guard<std::mutex> lock(*seen_mutex);
  EXPECT_EQ(std::vector<double>(seen->begin(), seen->begin() + 5), (std::vector<double>{1, 1, 2, 4, 4}));
  EXPECT_EQ(loop_->Progress().interval_stretch, 4);
}

TEST_F(TrainingLoopTest, RoundThatMakesTheModelNonFiniteFailsAndChangesNothing) {
  auto result = Submit(Training(std::numeric_limits<float>::quiet_NaN(), 1, 8));
  ASSERT_EQ(result.wait_for(seconds(30)), std::future_status::ready);
  Result<RoundTaskResult> r = result.get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("non-finite"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(shared_->Snapshot().params, initial_);  // nothing published
  // The model the node goes on with (and trains, and saves at Stop) stays finite: the failed
  // round left nothing behind, neither in the parameters nor in the optimizer's moments.
  const std::uint64_t trained = loop_->Progress().samples_trained;
  loop_->SetFederated(false, {});
  ASSERT_TRUE(WaitFor([&] { return loop_->Progress().samples_trained >= trained + 3 * 64; }, seconds(30)))
      << "no local training after the node left federated mode";
  loop_->Stop();
  Result<LoadedCheckpoint> saved = checkpointer_->LoadNewest(shared_->Snapshot().signature);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_TRUE(AllFinite(saved->params));
}

TEST_F(TrainingLoopTest, RoundTrainingStopsWhenTheNodeStopsFollowingItsCoordinator) {
  auto result = Submit(Training(1e-3f, 1000, 1));  // 64,000 minibatches
  ASSERT_TRUE(WaitFor([&] { return loop_->Progress().samples_trained > 0; }, seconds(30)));
  loop_->SetFederated(false, {});
  ASSERT_EQ(result.wait_for(seconds(5)), std::future_status::ready) << "still training an orphaned round";
  Result<RoundTaskResult> r = result.get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no longer follows"), std::string::npos) << r.status().ToString();
}

TEST_F(TrainingLoopTest, GoodRoundTrains) {
  auto result = Submit(Training(1e-2f, 1, 8));
  ASSERT_EQ(result.wait_for(seconds(30)), std::future_status::ready);
  Result<RoundTaskResult> r = result.get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->params, initial_);
  EXPECT_TRUE(AllFinite(r->params));
  EXPECT_EQ(r->samples, 64u);
}

// Free training whose own steps are negligible (learning rate 1e-9), so that what moves the
// model is the merge; the node's merge defaults but the average rule and no radial cap
// (exact weights).
class TrainingLoopMergeTest : public TrainingLoopTest {
 protected:
  void SetUp() override { BuildFreeTraining(/*consensus_pull=*/0); }  // the merge alone

  void BuildFreeTraining(float consensus_pull) {
    TrainingLoopOptions t;
    t.consensus_pull = consensus_pull;
    t.eval_interval = std::chrono::milliseconds(0);
    t.checkpoint_interval = std::chrono::milliseconds(0);
    t.learning_rate = LearningRateSchedule{1e-9f, 0, 1e-9f};
    t.merge.rule = gossip::MergeRule::kAverage;
    t.merge.clip_radial_share = 0;
    // Seconds long: the epoch after a merge does not end (an epoch without a merge would
    // restart the scored average) before the test has looked.
    t.min_epoch_samples = 1'000'000;
    Build(t, /*federated=*/false);
  }

  void Offer(const std::string& sender, std::vector<float> params) {
    shared_->Offer(gossip::ReceivedModel{sender, gossip::ModelSnapshot{shared_->Snapshot().signature,
                                                                       std::move(params), 64, 64}});
  }

  // Waits until the loop has judged `n` received models; its merge counters then.
  gossip::MergeStats AfterJudging(std::uint64_t n) {
    EXPECT_TRUE(WaitFor([&] { return loop_->Progress().merge.received >= n; }, seconds(30)))
        << "offers not merged or refused";
    return loop_->Progress().merge;
  }
};

TEST_F(TrainingLoopMergeTest, AnOfferedGoodModelIsMergedAndCounted) {
  std::vector<float> target = initial_;
  for (float& v : target) v += 0.01f;
  const double before = gossip::UpdateNorm(initial_, target);
  Offer("good@h", target);
  const gossip::MergeStats stats = AfterJudging(1);
  EXPECT_EQ(stats.merged, 1u);
  EXPECT_EQ(stats.refused(), 0u);
  EXPECT_EQ(stats.dropped, 0u);
  // Averaged (weight 1/2), the published model lies half way to the offered one.
  const auto distance = [&] { return gossip::UpdateNorm(shared_->Snapshot().params, target); };
  ASSERT_TRUE(WaitFor([&] { return distance() < 0.51 * before; }, seconds(30))) << distance() / before;
  EXPECT_GT(distance(), 0.49 * before);
  EXPECT_GE(loop_->Progress().model_age, 64u);  // the merged model's age counts
}

// The node scores and exports the average of the peers' models it merged, not its own model
// after the merge (which keeps half of its own drift): with one merge, the peer's model itself.
TEST_F(TrainingLoopMergeTest, TheExportedModelIsTheAverageOfThePeersModelsItMerged) {
  std::vector<float> peer = initial_;
  for (float& v : peer) v += 0.01f;
  Offer("good@h", peer);
  ASSERT_EQ(AfterJudging(1).merged, 1u);
  loop_->Stop();  // evaluates once more, exporting what it scored
  Result<std::unique_ptr<nn::Model>> exported = nn::Model::Load(checkpointer_->exported_path());
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  EXPECT_TRUE(loop_->Progress().scored_smoothed);
  EXPECT_LT(gossip::UpdateNorm(exported.value()->GetParameters(), peer), 1e-4);
  EXPECT_GT(gossip::UpdateNorm(shared_->Snapshot().params, peer), 0.4 * gossip::UpdateNorm(initial_, peer));
}

// With the pull on, the minibatches after a merge carry the model on toward the peers'
// average (here the one peer's model), past the half way the merge left it at.
class TrainingLoopPullTest : public TrainingLoopMergeTest {
 protected:
  void SetUp() override { BuildFreeTraining(/*consensus_pull=*/0.05f); }
};

TEST_F(TrainingLoopPullTest, AfterAMergeTheModelMovesOnTowardThePeersAverage) {
  std::vector<float> peer = initial_;
  for (float& v : peer) v += 0.01f;
  const double before = gossip::UpdateNorm(initial_, peer);
  Offer("good@h", peer);
  ASSERT_EQ(AfterJudging(1).merged, 1u);
  const auto distance = [&] { return gossip::UpdateNorm(shared_->Snapshot().params, peer); };
  EXPECT_TRUE(WaitFor([&] { return distance() < 0.25 * before; }, seconds(30))) << distance() / before;
}

TEST_F(TrainingLoopMergeTest, HostileModelsAreRefusedCountedAndLeaveTheModel) {
  std::vector<float> scaled = initial_, poisoned = initial_;
  for (float& v : scaled) v *= 10000.0f;                 // far beyond 200 and 4 x the local norm
  poisoned[3] = std::numeric_limits<float>::quiet_NaN();  // the engine checks this too; so does the policy
  Offer("scaled@h", scaled);
  Offer("nan@h", poisoned);
  const gossip::MergeStats stats = AfterJudging(2);
  EXPECT_EQ(stats.merged, 0u);
  EXPECT_EQ(stats.refused_too_far, 1u);
  EXPECT_EQ(stats.refused_not_finite, 1u);
  EXPECT_EQ(stats.refused_by_peer, (std::map<std::string, std::uint64_t>{{"nan@h", 1}, {"scaled@h", 1}}));
  const std::vector<float> now = shared_->Snapshot().params;
  EXPECT_TRUE(AllFinite(now));
  EXPECT_LT(gossip::UpdateNorm(now, initial_), 1e-3);  // only the negligible own training moved it
}

}  // namespace
}  // namespace gl::node

// TrainingLoop's round tasks on a real (tiny) model: what a bad or orphaned round cannot do.
#include "node/training_loop.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <future>
#include <limits>
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
  TrainingLoopTest() : dir_(::testing::TempDir() + "/training_loop_test_" + std::to_string(::getpid())) {
    std::filesystem::create_directories(dir_);
    nn::ModelOptions options;
    options.hidden_size = 8;
    std::unique_ptr<nn::Model> model = std::move(nn::Model::Create(options)).value();
    initial_ = model->GetParameters();
    nn::Dataset train{nn::DefaultLabels(), {}};
    for (int i = 0; i < 64; ++i) train.examples.push_back(nn::Example{"Name" + std::string(1, 'a' + i % 26), i % 18});
    shared_ = std::make_unique<SharedModel>(gossip::ModelSnapshot{model->Signature(), initial_, 0, 64});
    checkpointer_ = std::make_unique<Checkpointer>(dir_);
    TrainingLoopOptions t;
    t.eval_interval = std::chrono::milliseconds(0);
    t.checkpoint_interval = std::chrono::milliseconds(0);
    loop_ = std::make_unique<TrainingLoop>(std::move(model), train, train, std::nullopt, *shared_, *checkpointer_, t,
                                           CheckpointMeta{});
    loop_->SetFederated(true, {});  // a participant that follows a coordinator
    loop_->Start();
  }
  ~TrainingLoopTest() override {
    loop_->Stop();
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

}  // namespace
}  // namespace gl::node

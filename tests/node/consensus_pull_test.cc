// PullTowardConsensus on a real (tiny) model: the step's size, when it does nothing, and that
// it keeps a model trained on a one-label shard nearer the consensus than training alone.
#include "node/consensus_pull.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

namespace gl::node {
namespace {

std::unique_ptr<nn::Model> TinyModel(std::uint64_t seed) {
  nn::ModelOptions options;
  options.hidden_size = 8;
  options.seed = seed;
  return std::move(nn::Model::Create(options)).value();
}

double Distance(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(sum);
}

TEST(ConsensusPullTest, EachParameterMovesTheRatesShareOfTheWayTowardTheAverage) {
  std::unique_ptr<nn::Model> model = TinyModel(1);
  const std::vector<float> before = model->GetParameters();
  ParameterEma consensus(8);
  consensus.Add(TinyModel(2)->GetParameters());
  ASSERT_TRUE(PullTowardConsensus(*model, consensus, 0.25f));
  const std::vector<float> after = model->GetParameters();
  for (std::size_t i = 0; i < after.size(); ++i) {
    ASSERT_NEAR(after[i], before[i] + 0.25f * (consensus.value()[i] - before[i]), 1e-6) << "parameter " << i;
  }
}

TEST(ConsensusPullTest, NoRateNoAverageOrAnAverageOfAnotherLengthLeavesTheModelAsItWas) {
  std::unique_ptr<nn::Model> model = TinyModel(1);
  const std::vector<float> before = model->GetParameters();
  ParameterEma empty(8);
  EXPECT_FALSE(PullTowardConsensus(*model, empty, 0.25f));
  ParameterEma consensus(8);
  consensus.Add(TinyModel(2)->GetParameters());
  EXPECT_FALSE(PullTowardConsensus(*model, consensus, 0.0f));
  ParameterEma wrong_length(8);
  wrong_length.Add({1.0f, 2.0f});
  EXPECT_FALSE(PullTowardConsensus(*model, wrong_length, 0.25f));
  EXPECT_EQ(model->GetParameters(), before);
}

// The reason for the pull: a node whose shard holds one label drifts toward it; pulled after
// each minibatch, it ends nearer the consensus than the same training without the pull.
TEST(ConsensusPullTest, ANodeTrainedOnOneLabelStaysNearerTheAverageWhenPulled) {
  std::vector<nn::Example> batch;
  for (int i = 0; i < 32; ++i) batch.push_back(nn::Example{"Nakamura" + std::string(1, 'a' + i % 26), 10});
  ParameterEma consensus(8);
  consensus.Add(TinyModel(1)->GetParameters());
  double distance[2];
  for (int pulled = 0; pulled < 2; ++pulled) {
    std::unique_ptr<nn::Model> model = TinyModel(1);
    nn::TrainerOptions trainer;
    trainer.learning_rate = 0.02f;
    model->SetTrainerOptions(trainer);
    for (int step = 0; step < 200; ++step) {
      model->TrainBatch(batch);
      if (pulled) PullTowardConsensus(*model, consensus, 0.05f);
    }
    distance[pulled] = Distance(model->GetParameters(), consensus.value());
  }
  EXPECT_GT(distance[0], 0.0);
  EXPECT_LT(distance[1], 0.5 * distance[0]) << "unpulled " << distance[0] << ", pulled " << distance[1];
}

}  // namespace
}  // namespace gl::node

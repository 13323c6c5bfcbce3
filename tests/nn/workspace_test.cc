// Models share their thread's training workspace: training several models in turn on one
// thread gives each exactly what it gets alone, and a model's memory is its own state only.
#include <malloc.h>

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "nn/model.h"

namespace gl::nn {
namespace {

std::unique_ptr<Model> MakeModel(std::uint64_t seed, int hidden = 16) {
  ModelOptions o;
  o.hidden_size = hidden;
  o.max_name_length = 8;
  o.seed = seed;
  std::unique_ptr<Model> m = std::move(Model::Create(o)).value();
  TrainerOptions t;
  t.dropout = 0.3f;  // the dropout engine is part of a model's state, not the workspace's
  t.class_weighting = true;
  m->SetTrainerOptions(t);
  m->SetClassWeights({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18});
  return m;
}

// Batches of different sizes, so that the workspace's buffers are resized between models.
const std::vector<std::vector<Example>> kBatches = {
    {{"Nakamura", 10}, {"Rossi", 9}, {"Ivanov", 14}},
    {{"Sato", 10}, {"Bianchi", 9}, {"Petrov", 14}, {"O'Neill", 8}, {"Schmidt", 6}},
    {{"Dubois", 5}},
    {{"Kowalski", 12}, {"Nguyen", 17}, {"Smith", 4}, {"Garcia", 15}}};

// Trains on every batch `rounds` times, scoring the model after each round.
void Train(Model& m, int rounds) {
  Dataset scored{DefaultLabels(), kBatches[1]};
  for (int r = 0; r < rounds; ++r) {
    for (const auto& batch : kBatches) m.TrainBatch(batch);
    m.Evaluate(scored);
  }
}

std::vector<float> TrainedAlone(std::uint64_t seed, int rounds) {
  std::vector<float> params;
  // A thread of its own: a workspace that no other model ever used.
  std::thread([&] {
    std::unique_ptr<Model> m = MakeModel(seed);
    Train(*m, rounds);
    params = m->GetParameters();
  }).join();
  return params;
}

TEST(Workspace, ModelsTrainedInTurnOnOneThreadEndAsIfEachTrainedAlone) {
  constexpr int kRounds = 3;
  std::unique_ptr<Model> a = MakeModel(1), b = MakeModel(2);
  for (int r = 0; r < kRounds; ++r) {
    for (const auto& batch : kBatches) {
      a->TrainBatch(batch);
      b->TrainBatch(batch);
    }
    Dataset scored{DefaultLabels(), kBatches[1]};
    a->Evaluate(scored);
    b->Predict("Tanaka");
    b->Evaluate(scored);
  }
  const std::vector<float> alone_a = TrainedAlone(1, kRounds), alone_b = TrainedAlone(2, kRounds);
  ASSERT_NE(alone_a, alone_b);
  EXPECT_EQ(a->GetParameters(), alone_a);
  EXPECT_EQ(b->GetParameters(), alone_b);
}

TEST(Workspace, AModelMovesBetweenThreads) {
  std::unique_ptr<Model> m = MakeModel(3);
  Train(*m, 1);
  std::thread([&] { Train(*m, 1); }).join();
  EXPECT_EQ(m->GetParameters(), TrainedAlone(3, 2));
}

TEST(Workspace, ATrainedModelCostsItsParametersAndOptimizerStateOnly) {
  // Default size (hidden 128, ~75k parameters): parameters and Adam's two moments are
  // 0.9 MB; tiny-dnn's per-sample buffers of a batch of 32 would be ~10 MB more per model.
  const std::vector<Example> batch(32, Example{"Nakamura", 10});
  std::unique_ptr<Model> warm = MakeModel(0, 128);
  warm->TrainBatch(batch);  // builds this thread's workspace, once
  constexpr int kModels = 10;
  std::vector<std::unique_ptr<Model>> models;
  const std::size_t before = mallinfo2().uordblks;
  for (int i = 0; i < kModels; ++i) {
    models.push_back(MakeModel(i + 1, 128));
    models.back()->TrainBatch(batch);
  }
  const double per_model_mb = static_cast<double>(mallinfo2().uordblks - before) / kModels / (1 << 20);
  const double state_mb = 3.0 * models[0]->ParameterCount() * sizeof(float) / (1 << 20);
  EXPECT_LT(per_model_mb, state_mb + 0.5) << "own state " << state_mb << " MB";
}

}  // namespace
}  // namespace gl::nn

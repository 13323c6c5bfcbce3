// End to end: a small model learns four languages of data/names well above the
// majority-class rate within a few seconds.
#include <gtest/gtest.h>

#include <iostream>
#include <random>

#include "nn/model.h"
#include "nn/split.h"
#include "nn/trainer.h"

namespace gl::nn {
namespace {

TEST(Training, LearnsFourLanguagesWellAboveMajorityRate) {
  Result<Dataset> all = LoadDataset(std::string(GL_SOURCE_DIR) + "/data/names");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  // Up to 150 names each of Chinese (1), Greek (7), Japanese (10), Russian (14).
  Dataset small{all->labels, {}};
  std::vector<int> taken(all->labels.size(), 0);
  for (const Example& e : all->examples) {
    if ((e.label == 1 || e.label == 7 || e.label == 10 || e.label == 14) && taken[e.label]++ < 150) {
      small.examples.push_back(e);
    }
  }
  ASSERT_EQ(small.examples.size(), 600u);
  auto [train, validation] = TrainValidationSplit(small, 0.25, 1);
  ModelOptions options;
  options.hidden_size = 32;
  auto model = std::move(Model::Create(options)).value();
  const double before = model->Evaluate(validation).accuracy;
  std::mt19937_64 rng(1);
  for (int epoch = 0; epoch < 12; ++epoch) TrainEpoch(*model, train, 16, rng);
  const Metrics after = model->Evaluate(validation);
  EXPECT_EQ(after.samples, validation.examples.size());
  EXPECT_GT(after.accuracy, 0.75) << "before training " << before;  // majority class: 25%
  std::cout << "accuracy " << before << " -> " << after.accuracy << "\n";
  EXPECT_GT(after.macro_f1, 0.7);
}

TEST(ParameterAverage, IsTheMeanOfWhatWasAdded) {
  ParameterAverage average;
  EXPECT_TRUE(average.Mean().empty());
  average.Add({1.0f, -2.0f});
  average.Add({3.0f, 4.0f});
  EXPECT_EQ(average.count(), 2u);
  EXPECT_EQ(average.Mean(), (std::vector<float>{2.0f, 1.0f}));
}

TEST(Training, TrainEpochVisitsEveryExampleAndFeedsTheAverage) {
  ModelOptions options;
  options.hidden_size = 8;
  auto model = std::move(Model::Create(options)).value();
  Dataset data{DefaultLabels(), {}};
  for (int i = 0; i < 70; ++i) data.examples.push_back({"Name" + std::to_string(i), i % 3});
  std::mt19937_64 rng(1);
  ParameterAverage average;
  const EpochStats stats = TrainEpoch(*model, data, 32, rng, &average);
  EXPECT_EQ(stats.samples, 70u);
  EXPECT_EQ(average.count(), 3u);  // batches of 32, 32, 6
  EXPECT_GT(stats.mean_loss, 0.0);
  EXPECT_NE(average.Mean(), model->GetParameters());
}

}  // namespace
}  // namespace gl::nn

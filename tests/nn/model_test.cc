#include "nn/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace gl::nn {
namespace {

ModelOptions SmallOptions(std::uint64_t seed = 1) {
  ModelOptions o;
  o.hidden_size = 16;
  o.max_name_length = 8;
  o.seed = seed;
  return o;
}

std::unique_ptr<Model> MakeModel(const ModelOptions& o = SmallOptions()) {
  Result<std::unique_ptr<Model>> m = Model::Create(o);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return std::move(m).value();
}

const std::vector<Example> kBatch1 = {{"Nakamura", 10}, {"Rossi", 9}, {"Ivanov", 14}};
const std::vector<Example> kBatch2 = {{"Sato", 10}, {"Bianchi", 9}, {"Petrov", 14}, {"O'Neill", 8}};

TEST(Model, ParameterCountMatchesArchitecture) {
  auto m = MakeModel();
  const int symbols = 59, h = 16, labels = 18;
  EXPECT_EQ(m->ParameterCount(), static_cast<std::size_t>(3 * h * (symbols + h) + 6 * h + h * labels + labels));
  EXPECT_EQ(m->GetParameters().size(), m->ParameterCount());
  EXPECT_EQ(m->Labels(), DefaultLabels());
}

TEST(Model, SignatureDependsOnArchitectureAlphabetAndLabels) {
  ModelOptions o = SmallOptions();
  const std::string base = MakeModel(o)->Signature();
  EXPECT_EQ(base, MakeModel(SmallOptions(99))->Signature());  // not on the seed
  EXPECT_EQ(base.rfind("gru1/h16/l8/", 0), 0u) << base;
  o.hidden_size = 32;
  EXPECT_NE(MakeModel(o)->Signature(), base);
  o = SmallOptions();
  o.alphabet = AlphabetKind::kKeepAccents;
  EXPECT_NE(MakeModel(o)->Signature(), base);
  o = SmallOptions();
  std::swap(o.labels[0], o.labels[1]);
  EXPECT_NE(MakeModel(o)->Signature(), base);
}

TEST(Model, CreateRejectsBadOptions) {
  ModelOptions o = SmallOptions();
  o.hidden_size = 4;
  EXPECT_FALSE(Model::Create(o).ok());
  o = SmallOptions();
  o.max_name_length = 0;
  EXPECT_FALSE(Model::Create(o).ok());
  o = SmallOptions();
  o.labels = {"OnlyOne"};
  EXPECT_FALSE(Model::Create(o).ok());
}

TEST(Model, InitialisationIsDeterministicForASeed) {
  EXPECT_EQ(MakeModel()->GetParameters(), MakeModel()->GetParameters());
  EXPECT_NE(MakeModel()->GetParameters(), MakeModel(SmallOptions(2))->GetParameters());
}

TEST(Model, FlatParametersRoundTrip) {
  auto a = MakeModel(), b = MakeModel(SmallOptions(7));
  ASSERT_NE(a->Predict("Nakamura"), b->Predict("Nakamura"));
  ASSERT_TRUE(b->SetParameters(a->GetParameters()).ok());
  EXPECT_EQ(b->GetParameters(), a->GetParameters());
  EXPECT_EQ(b->Predict("Nakamura"), a->Predict("Nakamura"));
}

TEST(Model, SetParametersRejectsWrongLengthAndNonFiniteValuesAndKeepsTheModel) {
  auto m = MakeModel();
  const std::vector<float> before = m->GetParameters();
  std::vector<float> bad = before;
  bad.pop_back();
  EXPECT_EQ(m->SetParameters(bad).code(), Status::Code::kRejected);
  for (float v : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    bad = before;
    for (float& x : bad) x = 0.5f;
    bad[bad.size() / 2] = v;
    EXPECT_EQ(m->SetParameters(bad).code(), Status::Code::kRejected);
  }
  EXPECT_EQ(m->GetParameters(), before);
}

TEST(Model, PredictGivesADistributionAndTruncatesLongNames) {
  auto m = MakeModel();
  const std::vector<float> p = m->Predict("Nakamura");
  ASSERT_EQ(p.size(), 18u);
  double sum = 0;
  for (float x : p) {
    EXPECT_GE(x, 0.0f);
    sum += x;
  }
  EXPECT_NEAR(sum, 1.0, 1e-5);
  EXPECT_EQ(m->Predict("Abcdefgh"), m->Predict("Abcdefghijklmnop"));  // max length 8
  EXPECT_NE(m->Predict("Abcdefg"), m->Predict("Abcdefgh"));
  EXPECT_EQ(m->Predict("").size(), 18u);
}

TEST(Model, TrainBatchLowersTheLossOnThatBatch) {
  auto m = MakeModel();
  const float first = m->TrainBatch(kBatch1);
  EXPECT_GT(first, 2.0f);  // about ln(18) = 2.89 before training
  float last = first;
  for (int i = 0; i < 30; ++i) last = m->TrainBatch(kBatch1);
  EXPECT_LT(last, 0.5f * first);
}

TEST(Model, EachTrainBatchIsOneAdamStepWhoseStateSurvivesSetParameters) {
  auto a = MakeModel(), b = MakeModel(), fresh = MakeModel();
  a->TrainBatch(kBatch1);
  a->TrainBatch(kBatch2);
  b->TrainBatch(kBatch1);
  ASSERT_TRUE(b->SetParameters(b->GetParameters()).ok());
  b->TrainBatch(kBatch2);
  EXPECT_EQ(a->GetParameters(), b->GetParameters());  // deterministic, state kept
  // Same weights but no optimizer history: Adam's first step differs from its second.
  a = MakeModel();
  a->TrainBatch(kBatch1);
  ASSERT_TRUE(fresh->SetParameters(a->GetParameters()).ok());
  a->TrainBatch(kBatch2);
  fresh->TrainBatch(kBatch2);
  EXPECT_NE(a->GetParameters(), fresh->GetParameters());
}

// With plain SGD a step is lr x the gradient: twice the rate moves every parameter twice as
// far, where Adam's first step has about the same length whatever the gradient's size.
TEST(Model, SgdStepsScaleWithTheLearningRate) {
  auto initial = MakeModel(), once = MakeModel(), twice = MakeModel();
  TrainerOptions t;
  t.optimizer = Optimizer::kSgd;
  t.clip_norm = 0;
  t.learning_rate = 0.05f;
  once->SetTrainerOptions(t);
  t.learning_rate = 0.1f;
  twice->SetTrainerOptions(t);
  once->TrainBatch(kBatch1);
  twice->TrainBatch(kBatch1);
  const std::vector<float> w0 = initial->GetParameters(), w1 = once->GetParameters(), w2 = twice->GetParameters();
  double moved = 0;
  for (std::size_t i = 0; i < w0.size(); ++i) {
    EXPECT_NEAR(w2[i] - w0[i], 2 * (w1[i] - w0[i]), 1e-6) << "parameter " << i;
    moved += std::abs(w1[i] - w0[i]);
  }
  EXPECT_GT(moved, 0.0);
}

// One step on kBatch2 with class weighting at `power` and one without; true if equal.
bool SameUpdateAsUnweighted(float power) {
  auto plain = MakeModel(), weighted = MakeModel();
  TrainerOptions t;
  t.class_weighting = true;
  t.class_weight_power = power;
  weighted->SetTrainerOptions(t);
  std::vector<std::size_t> counts(18, 5);
  counts[8] = 1, counts[9] = 10, counts[10] = 100, counts[14] = 1000;
  weighted->SetClassWeights(counts);
  plain->TrainBatch(kBatch2);
  weighted->TrainBatch(kBatch2);
  return plain->GetParameters() == weighted->GetParameters();
}

TEST(Model, ClassWeightingChangesTheUpdate) {
  EXPECT_FALSE(SameUpdateAsUnweighted(1.0f));
  EXPECT_FALSE(SameUpdateAsUnweighted(0.5f));
}

TEST(Model, ClassWeightPowerZeroIsUnweighted) { EXPECT_TRUE(SameUpdateAsUnweighted(0.0f)); }

TEST(Model, DropoutChangesTrainingButNotPrediction) {
  auto plain = MakeModel(), dropped = MakeModel();
  TrainerOptions t;
  t.dropout = 0.5f;
  dropped->SetTrainerOptions(t);
  EXPECT_EQ(plain->Predict("Sato"), dropped->Predict("Sato"));
  plain->TrainBatch(kBatch2);
  dropped->TrainBatch(kBatch2);
  EXPECT_NE(plain->GetParameters(), dropped->GetParameters());
  ASSERT_TRUE(dropped->SetParameters(plain->GetParameters()).ok());
  EXPECT_EQ(plain->Predict("Sato"), dropped->Predict("Sato"));  // inference never drops
}

TEST(Model, OutOfRangeLabelsAreIgnoredNotACrash) {
  auto m = MakeModel(), reference = MakeModel();
  std::vector<Example> batch = kBatch2;
  batch.push_back({"Nobody", 18});
  batch.push_back({"Noone", -1});
  EXPECT_EQ(m->TrainBatch(batch), reference->TrainBatch(kBatch2));
  EXPECT_EQ(m->GetParameters(), reference->GetParameters());
  Dataset d{DefaultLabels(), batch};
  EXPECT_EQ(m->Evaluate(d).samples, kBatch2.size());
}

TEST(Model, EvaluateCountsEverySample) {
  auto m = MakeModel();
  Dataset d{DefaultLabels(), {}};
  for (int i = 0; i < 70; ++i) d.examples.push_back({"Name" + std::to_string(i), i % 18});
  const Metrics metrics = m->Evaluate(d);
  EXPECT_EQ(metrics.samples, 70u);
  EXPECT_GT(metrics.mean_loss, 0.0);
  std::size_t total = 0;
  for (const auto& row : metrics.confusion) {
    for (std::size_t c : row) total += c;
  }
  EXPECT_EQ(total, 70u);
}

}  // namespace
}  // namespace gl::nn

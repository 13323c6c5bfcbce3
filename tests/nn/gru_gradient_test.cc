// Numeric gradient check of the GRU's back-propagation through time, in double precision:
// central differences on every parameter, compared by relative error. The check is shown
// to fail on wrong gradients (a 1% error in one entry, a dropped gate term).
#include "nn/gru_math.h"

#include <gtest/gtest.h>

#include <random>

namespace gl::nn {
namespace {

constexpr int kSymbols = 5, kHidden = 4, kGates = 3 * kHidden;

struct Params {
  std::vector<double> wx = std::vector<double>(kSymbols * kGates), wh = std::vector<double>(kHidden * kGates),
                      bx = std::vector<double>(kGates), bh = std::vector<double>(kGates);
  std::vector<std::vector<double>*> Blocks() { return {&wx, &wh, &bx, &bh}; }
  GruWeights<double> Weights() const { return {wx.data(), wh.data(), bx.data(), bh.data(), kSymbols, kHidden}; }
};

class GruGradientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> u(-0.8, 0.8);
    for (auto* block : params_.Blocks()) {
      for (double& w : *block) w = u(rng);
    }
    // Lengths 6, 4, 4, 1, 0: sequences end at different steps, one is empty.
    sequences_ = {{0, 1, 2, 3, 4, 0}, {4, 3, 2, 1}, {2, 2, 2, 2}, {3}, {}};
    std::vector<const std::vector<int>*> sorted;
    for (const auto& s : sequences_) sorted.push_back(&s);
    batch_.Assign(sorted);
    loss_weights_.resize(sequences_.size() * kHidden);
    for (double& c : loss_weights_) c = u(rng);
  }

  // L = sum_b sum_j c[b][j] * h_final[b][j]
  double Loss() {
    core_.Forward(params_.Weights(), batch_);
    double loss = 0;
    for (int b = 0; b < batch_.size(); ++b) {
      const double* h = core_.Final(batch_, b, kHidden);
      for (int j = 0; j < kHidden; ++j) loss += loss_weights_[b * kHidden + j] * h[j];
    }
    return loss;
  }

  Params Analytic() {
    Params grads;
    for (auto* block : grads.Blocks()) std::fill(block->begin(), block->end(), 0.0);
    Loss();
    core_.Backward(params_.Weights(), batch_, loss_weights_.data(),
                   {grads.wx.data(), grads.wh.data(), grads.bx.data(), grads.bh.data()});
    return grads;
  }

  Params Numeric() {
    constexpr double kStep = 1e-5;
    Params grads;
    auto blocks = params_.Blocks(), out = grads.Blocks();
    for (std::size_t k = 0; k < blocks.size(); ++k) {
      for (std::size_t i = 0; i < blocks[k]->size(); ++i) {
        double& w = (*blocks[k])[i];
        const double saved = w;
        w = saved + kStep;
        const double plus = Loss();
        w = saved - kStep;
        const double minus = Loss();
        w = saved;
        (*out[k])[i] = (plus - minus) / (2 * kStep);
      }
    }
    return grads;
  }

  // max over parameters of |a - n| / max(|a| + |n|, 1e-8)
  static double MaxRelativeError(Params& analytic, Params& numeric) {
    double worst = 0;
    auto a = analytic.Blocks(), n = numeric.Blocks();
    for (std::size_t k = 0; k < a.size(); ++k) {
      for (std::size_t i = 0; i < a[k]->size(); ++i) {
        const double x = (*a[k])[i], y = (*n[k])[i];
        worst = std::max(worst, std::abs(x - y) / std::max(std::abs(x) + std::abs(y), 1e-8));
      }
    }
    return worst;
  }

  static constexpr double kTolerance = 1e-6;
  Params params_;
  std::vector<std::vector<int>> sequences_;
  GruBatch batch_;
  GruCore<double> core_;
  std::vector<double> loss_weights_;
};

TEST_F(GruGradientTest, BackwardMatchesCentralDifferences) {
  Params analytic = Analytic(), numeric = Numeric();
  EXPECT_LT(MaxRelativeError(analytic, numeric), kTolerance);
  // The check is not vacuous: gradients reach every block, symbol rows unused get none.
  EXPECT_NE(analytic.wh[5], 0.0);
  EXPECT_NE(analytic.bh[2 * kHidden], 0.0);
  EXPECT_NE(analytic.wx[4 * kGates], 0.0);
}

TEST_F(GruGradientTest, DetectsAOnePercentErrorInOneEntry) {
  Params analytic = Analytic(), numeric = Numeric();
  analytic.wh[7] *= 1.01;
  EXPECT_GT(MaxRelativeError(analytic, numeric), kTolerance);
}

TEST_F(GruGradientTest, DetectsAMissingResetGateFactor) {
  // A classic BPTT bug: the gradient of bh_n not scaled by r, i.e. equal to that of bx_n.
  Params analytic = Analytic(), numeric = Numeric();
  std::copy(analytic.bx.begin() + 2 * kHidden, analytic.bx.end(), analytic.bh.begin() + 2 * kHidden);
  EXPECT_GT(MaxRelativeError(analytic, numeric), kTolerance);
}

}  // namespace
}  // namespace gl::nn

namespace gl::nn {
namespace {

TEST(GruMath, FloatExpIsAccurateAndSaturates) {
  double worst = 0;
  for (float x = -80.0f; x <= 80.0f; x += 0.01f) {
    const double exact = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::abs(Exp(x) - exact) / exact);
  }
  EXPECT_LT(worst, 1e-6);
  EXPECT_EQ(Sigmoid(-1000.0f), Sigmoid(-100.0f));
  EXPECT_NEAR(Sigmoid(1000.0f), 1.0f, 1e-7);
  EXPECT_NEAR(Tanh(-1000.0f), -1.0f, 1e-7);
  EXPECT_NEAR(Tanh(0.5f), std::tanh(0.5f), 1e-6);
}

}  // namespace
}  // namespace gl::nn

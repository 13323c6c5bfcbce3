#include "nn/gemm.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace gl::nn {
namespace {

// C += A B by the definition in double, A(i, p) = a[i * a_row + p * a_col].
template <typename T>
std::vector<double> Naive(int m, int n, int k, const std::vector<T>& a, int a_row, int a_col, const std::vector<T>& b,
                          const std::vector<T>& c) {
  std::vector<double> out(c.begin(), c.end());
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      for (int p = 0; p < k; ++p) out[i * n + j] += double(a[i * a_row + p * a_col]) * b[p * n + j];
    }
  }
  return out;
}

// Both kernels against the definition, in T; `tolerance` allows for T's rounding.
template <typename T>
void ExpectBothKernelsMatchTheDefinition(int m, int n, int k, bool transposed, double tolerance) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<T> a(m * k), b(k * n), c(m * n);
  for (auto* v : {&a, &b, &c}) {
    for (T& x : *v) x = static_cast<T>(u(rng));
  }
  const int a_row = transposed ? 1 : k, a_col = transposed ? m : 1;  // A stored as A^T when transposed
  const std::vector<double> expected = Naive(m, n, k, a, a_row, a_col, b, c);
  std::vector<T> streamed = c, tiled = c;
  GemmAccumulate(m, n, k, a.data(), a_row, a_col, b.data(), n, streamed.data(), n);
  GemmAccumulateTiled(m, n, k, a.data(), a_row, a_col, b.data(), n, tiled.data(), n);
  for (int i = 0; i < m * n; ++i) {
    ASSERT_NEAR(streamed[i], expected[i], tolerance) << "row " << i / n << " column " << i % n;
    ASSERT_NEAR(tiled[i], expected[i], tolerance) << "row " << i / n << " column " << i % n;
  }
}

class GemmTest : public ::testing::TestWithParam<std::tuple<int, int, int, bool>> {};

TEST_P(GemmTest, BothKernelsMatchTheDefinitionInDouble) {
  const auto [m, n, k, transposed] = GetParam();
  ExpectBothKernelsMatchTheDefinition<double>(m, n, k, transposed, 1e-12);
}

// float takes the architecture's own tiles (NEON 8x8 and 4x8 on aarch64).
TEST_P(GemmTest, BothKernelsMatchTheDefinitionInFloat) {
  const auto [m, n, k, transposed] = GetParam();
  ExpectBothKernelsMatchTheDefinition<float>(m, n, k, transposed, 1e-5 * k);
}

// Each row of C comes out bit for bit the same whether the product has one row or many, so
// whether a row lands in a register tile or on a streamed edge: training a name gives the
// same weights whatever else shares its batch.
TEST(Gemm, ARowsResultDoesNotDependOnTheOtherRows) {
  const int m = 16, n = 64, k = 128;
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> a(m * k), b(k * n), c(m * n);
  for (auto* v : {&a, &b, &c}) {
    for (float& x : *v) x = u(rng);
  }
  std::vector<float> together = c;
  GemmAccumulateTiled(m, n, k, a.data(), k, 1, b.data(), n, together.data(), n);
  for (int i = 0; i < m; ++i) {
    std::vector<float> alone(c.begin() + i * n, c.begin() + (i + 1) * n);
    GemmAccumulateTiled(1, n, k, a.data() + i * k, k, 1, b.data(), n, alone.data(), n);
    for (int j = 0; j < n; ++j) ASSERT_EQ(alone[j], together[i * n + j]) << "row " << i << " column " << j;
  }
}

// Rows: whole 8-row tiles, 8 + 4 + 1, 8 + 4, fewer than a tile; columns: whole tiles (8 and 32
// wide), ragged, narrower than a tile; inner dimension odd and of one step.
INSTANTIATE_TEST_SUITE_P(Shapes, GemmTest,
                         ::testing::Combine(::testing::Values(16, 13, 12, 3), ::testing::Values(64, 70, 5),
                                            ::testing::Values(1, 9), ::testing::Bool()));

}  // namespace
}  // namespace gl::nn

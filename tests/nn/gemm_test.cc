#include "nn/gemm.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace gl::nn {
namespace {

// C += A B by the definition, A(i, p) = a[i * a_row + p * a_col].
std::vector<double> Naive(int m, int n, int k, const std::vector<double>& a, int a_row, int a_col,
                          const std::vector<double>& b, std::vector<double> c) {
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      for (int p = 0; p < k; ++p) c[i * n + j] += a[i * a_row + p * a_col] * b[p * n + j];
    }
  }
  return c;
}

class GemmTest : public ::testing::TestWithParam<std::tuple<int, int, int, bool>> {};

TEST_P(GemmTest, BothKernelsMatchTheDefinition) {
  const auto [m, n, k, transposed] = GetParam();
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> a(m * k), b(k * n), c(m * n);
  for (auto* v : {&a, &b, &c}) {
    for (double& x : *v) x = u(rng);
  }
  const int a_row = transposed ? 1 : k, a_col = transposed ? m : 1;  // A stored as A^T when transposed
  const std::vector<double> expected = Naive(m, n, k, a, a_row, a_col, b, c);
  std::vector<double> streamed = c, tiled = c;
  GemmAccumulate(m, n, k, a.data(), a_row, a_col, b.data(), n, streamed.data(), n);
  GemmAccumulateTiled(m, n, k, a.data(), a_row, a_col, b.data(), n, tiled.data(), n);
  for (int i = 0; i < m * n; ++i) {
    ASSERT_NEAR(streamed[i], expected[i], 1e-12) << i;
    ASSERT_NEAR(tiled[i], expected[i], 1e-12) << i;
  }
}

// Full tiles only, ragged rows, ragged columns, both ragged, smaller than one tile.
INSTANTIATE_TEST_SUITE_P(Shapes, GemmTest,
                         ::testing::Combine(::testing::Values(16, 13, 3), ::testing::Values(64, 70, 5),
                                            ::testing::Values(9), ::testing::Bool()));

}  // namespace
}  // namespace gl::nn

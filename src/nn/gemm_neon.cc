#include "nn/gemm_neon.h"

#if defined(__aarch64__)

#include <arm_neon.h>

#include <vector>

#include "nn/gemm.h"

namespace gl::nn {
namespace {

constexpr int kTileCols = 8;

// C[r][0..7] += sum_p A[p * 4 * kQuads + r] * B[p * ldb + 0..7] for r < 4 * kQuads: a block of
// 4 * kQuads rows by 8 columns, accumulated in 8 * kQuads registers (lane-indexed fmla: one
// register of A serves 4 rows). The accumulators start from C and add the products in the order
// of p, one fused multiply-add each, as GemmAccumulate does: an element's result does not depend
// on which kernel computed it, so a sequence's result does not depend on how many others share
// its batch. Not inlined, so that tools/check-arm64-kernels finds it by name and checks that no
// accumulator goes to the stack.
template <int kQuads>
[[gnu::noinline]] void GemmTileNeon(int k, const float* __restrict a_panel, const float* __restrict b, int ldb,
                                    float* __restrict c, int ldc) {
  constexpr int kRows = 4 * kQuads;
  float32x4_t acc[kRows][2];
#pragma GCC unroll 8
  for (int r = 0; r < kRows; ++r) acc[r][0] = vld1q_f32(c + r * ldc), acc[r][1] = vld1q_f32(c + r * ldc + 4);
#pragma GCC unroll 2
  for (int p = 0; p < k; ++p) {
    const float32x4_t b_lo = vld1q_f32(b), b_hi = vld1q_f32(b + 4);
#pragma GCC unroll 2
    for (int q = 0; q < kQuads; ++q) {
      const float32x4_t av = vld1q_f32(a_panel + 4 * q);
      acc[4 * q][0] = vfmaq_laneq_f32(acc[4 * q][0], b_lo, av, 0);
      acc[4 * q][1] = vfmaq_laneq_f32(acc[4 * q][1], b_hi, av, 0);
      acc[4 * q + 1][0] = vfmaq_laneq_f32(acc[4 * q + 1][0], b_lo, av, 1);
      acc[4 * q + 1][1] = vfmaq_laneq_f32(acc[4 * q + 1][1], b_hi, av, 1);
      acc[4 * q + 2][0] = vfmaq_laneq_f32(acc[4 * q + 2][0], b_lo, av, 2);
      acc[4 * q + 2][1] = vfmaq_laneq_f32(acc[4 * q + 2][1], b_hi, av, 2);
      acc[4 * q + 3][0] = vfmaq_laneq_f32(acc[4 * q + 3][0], b_lo, av, 3);
      acc[4 * q + 3][1] = vfmaq_laneq_f32(acc[4 * q + 3][1], b_hi, av, 3);
    }
    a_panel += kRows;
    b += ldb;
  }
#pragma GCC unroll 8
  for (int r = 0; r < kRows; ++r) vst1q_f32(c + r * ldc, acc[r][0]), vst1q_f32(c + r * ldc + 4, acc[r][1]);
}

// Height of the row block that starts at row i of m: 8 while 8 rows remain, then 4, then 0
// (fewer than 4 rows are streamed).
int BlockRows(int i, int m) { return m - i >= 8 ? 8 : (m - i >= 4 ? 4 : 0); }

}  // namespace

void GemmAccumulateTiledNeon(int m, int n, int k, const float* a, int a_row, int a_col, const float* b, int ldb,
                             float* c, int ldc) {
  // The block of rows starting at i goes to panels[i * k ...] as A(i + r, p) at [p * rows + r].
  thread_local std::vector<float> panels;
  const int m_tiled = m - m % 4;  // the rows BlockRows covers
  if (panels.size() < static_cast<std::size_t>(m_tiled) * k) panels.resize(static_cast<std::size_t>(m_tiled) * k);
  for (int i = 0, rows; (rows = BlockRows(i, m)) > 0; i += rows) {
    float* panel = panels.data() + static_cast<std::size_t>(i) * k;
    for (int p = 0; p < k; ++p) {
      for (int r = 0; r < rows; ++r) panel[p * rows + r] = a[(i + r) * a_row + p * a_col];
    }
  }
  const int n_tiled = n - n % kTileCols;
  for (int j = 0; j < n_tiled; j += kTileCols) {
    for (int i = 0, rows; (rows = BlockRows(i, m)) > 0; i += rows) {
      const float* panel = panels.data() + static_cast<std::size_t>(i) * k;
      if (rows == 8) {
        GemmTileNeon<2>(k, panel, b + j, ldb, c + i * ldc + j, ldc);
      } else {
        GemmTileNeon<1>(k, panel, b + j, ldb, c + i * ldc + j, ldc);
      }
    }
  }
  if (m_tiled < m) {  // last rows, all columns
    GemmAccumulate(m - m_tiled, n, k, a + m_tiled * a_row, a_row, a_col, b, ldb, c + m_tiled * ldc, ldc);
  }
  if (n_tiled < n && m_tiled > 0) {  // last columns of the tiled rows
    GemmAccumulate(m_tiled, n - n_tiled, k, a, a_row, a_col, b + n_tiled, ldb, c + n_tiled, ldc);
  }
}

}  // namespace gl::nn

#endif  // __aarch64__

// Small dense kernels for the GRU: C += A * B on row-major float/double matrices, written
// so that GCC vectorises them at -O3 on x86 (AVX2/AVX-512) and aarch64 (NEON). A is
// addressed through two strides, so A^T is passed without copying. GemmAccumulateTiled
// keeps a block of C in registers and is 2.5-3.8x faster on the GRU's three products
// (bench/nn/nn_bench); GemmAccumulate streams rows of C and handles the edges that do not
// fill a block. The block fits the architecture's registers: 8x32 (GemmTile) for AVX-512's
// 32 registers of 16 floats; on aarch64, whose 32 registers hold 4 floats, float goes to the
// 8x8 NEON tiles of nn/gemm_neon.h; on 32-bit ARM, where GCC does not vectorise float (NEON
// there is not IEEE-exact), 4x4 for its 32 single-precision registers. Pure; no threads.
#pragma once

#include <type_traits>

#include "nn/gemm_neon.h"

namespace gl::nn {

// C[i][j] += sum_p A(i, p) * B[p][j] for i < m, j < n, p < k, where
// A(i, p) = a[i * a_row + p * a_col], B[p][j] = b[p * ldb + j], C[i][j] = c[i * ldc + j].
// C must not overlap A or B.
template <typename T>
void GemmAccumulate(int m, int n, int k, const T* a, int a_row, int a_col, const T* b, int ldb, T* c,
                    int ldc) {
  int i = 0;
  for (; i + 4 <= m; i += 4) {  // four rows of C share each row of B
    T* __restrict c0 = c + i * ldc;
    T* __restrict c1 = c0 + ldc;
    T* __restrict c2 = c1 + ldc;
    T* __restrict c3 = c2 + ldc;
    for (int p = 0; p < k; ++p) {
      const T a0 = a[i * a_row + p * a_col], a1 = a[(i + 1) * a_row + p * a_col];
      const T a2 = a[(i + 2) * a_row + p * a_col], a3 = a[(i + 3) * a_row + p * a_col];
      const T* __restrict bp = b + p * ldb;
      for (int j = 0; j < n; ++j) {
        const T bv = bp[j];
        c0[j] += a0 * bv;
        c1[j] += a1 * bv;
        c2[j] += a2 * bv;
        c3[j] += a3 * bv;
      }
    }
  }
  for (; i < m; ++i) {
    T* __restrict ci = c + i * ldc;
    for (int p = 0; p < k; ++p) {
      const T ai = a[i * a_row + p * a_col];
      const T* __restrict bp = b + p * ldb;
      for (int j = 0; j < n; ++j) ci[j] += ai * bp[j];
    }
  }
}

// One kRows x kCols block of C, accumulated in registers over the whole inner dimension.
// The accumulators start from C and add the products in the order of p, as GemmAccumulate
// does, so both kernels round alike: a row's result does not depend on how many rows share
// the product (a sequence's, on how many others share its batch).
template <typename T, int kRows, int kCols>
void GemmTile(int k, const T* __restrict a, int a_row, int a_col, const T* __restrict b, int ldb, T* __restrict c,
              int ldc) {
  T acc[kRows][kCols];
  for (int i = 0; i < kRows; ++i) {
    for (int j = 0; j < kCols; ++j) acc[i][j] = c[i * ldc + j];
  }
  for (int p = 0; p < k; ++p) {
    const T* bp = b + p * ldb;
    for (int i = 0; i < kRows; ++i) {
      const T av = a[i * a_row + p * a_col];
      for (int j = 0; j < kCols; ++j) acc[i][j] += av * bp[j];
    }
  }
  for (int i = 0; i < kRows; ++i) {
    for (int j = 0; j < kCols; ++j) c[i * ldc + j] = acc[i][j];
  }
}

#if defined(__arm__)
inline constexpr int kGemmTileRows = 4, kGemmTileCols = 4;
#else
inline constexpr int kGemmTileRows = 8, kGemmTileCols = 32;
#endif

// Same contract as GemmAccumulate; full blocks in registers, the edges streamed.
template <typename T, int kRows = kGemmTileRows, int kCols = kGemmTileCols>
void GemmAccumulateTiled(int m, int n, int k, const T* a, int a_row, int a_col, const T* b, int ldb, T* c, int ldc) {
#if defined(__aarch64__)
  if constexpr (std::is_same_v<T, float>) {
    GemmAccumulateTiledNeon(m, n, k, a, a_row, a_col, b, ldb, c, ldc);
    return;
  }
#endif
  const int m_full = m - m % kRows, n_full = n - n % kCols;
  for (int j = 0; j < n_full; j += kCols) {
    for (int i = 0; i < m_full; i += kRows) {
      GemmTile<T, kRows, kCols>(k, a + i * a_row, a_row, a_col, b + j, ldb, c + i * ldc + j, ldc);
    }
  }
  if (m_full < m) {  // last rows, all columns
    GemmAccumulate(m - m_full, n, k, a + m_full * a_row, a_row, a_col, b, ldb, c + m_full * ldc, ldc);
  }
  if (n_full < n && m_full > 0) {  // last columns of the full rows
    GemmAccumulate(m_full, n - n_full, k, a, a_row, a_col, b + n_full, ldb, c + n_full, ldc);
  }
}

}  // namespace gl::nn

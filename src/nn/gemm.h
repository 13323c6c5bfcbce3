// Small dense kernel for the GRU: C += A * B on row-major float/double matrices, written
// so that GCC vectorises the inner loop at -O3 on x86 (AVX2/AVX-512) and aarch64 (NEON).
// A is addressed through two strides, so A^T is passed without copying. Pure; no threads.
#pragma once

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

}  // namespace gl::nn

// C += A * B for float on aarch64, with NEON register tiles: the GRU's three products
// (nn/gru_math.h) on a Raspberry Pi. Same contract as GemmAccumulate in nn/gemm.h, which
// dispatches here for float when compiled for aarch64. Blocks of 8x8 and 4x8 of C are held in
// 16 / 8 vector registers over the whole inner dimension (aarch64 has 32 registers of 4 floats:
// 16 accumulators + 2 of B + 2 of A fit; the x86 8x32 tile does not and spills); the rows of A
// are first packed so each step reads them with one 4-wide load per 4 rows; edges that do not
// fill a 4-row by 8-column block are streamed by GemmAccumulate. Thread-safe (a packing buffer
// per thread); defined only on aarch64.
#pragma once

namespace gl::nn {

void GemmAccumulateTiledNeon(int m, int n, int k, const float* a, int a_row, int a_col, const float* b, int ldb,
                             float* c, int ldc);

}  // namespace gl::nn

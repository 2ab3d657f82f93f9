// GEMM on the packed, cache-blocked kernels of the current ISA (BLIS-style loops, OpenMP over
// the outer loops). All four transpose cases read A and B through strides: no transpose is ever
// materialized.
#pragma once
#include <cstdint>
#include <functional>

#include "kernels/cpu/kernels.h"

namespace kerasette {

// Applied to each finished C tile while it is hot in cache: C[i, j] = act(C[i, j] + bias[j]).
struct GemmEpilogue {
  const float* bias = nullptr;  // length N, or null
  Act act = Act::Linear;        // never Act::Softmax
  float alpha = 0.0f;           // activation parameter (ELU alpha, leaky slope)
};

// C[M x N] (row stride ldc) = op(A) * op(B) (+ C when accumulate), then the epilogue.
// op(A) is M x K: A is M x K row-major (lda) or, when trans_a, K x M row-major.
// op(B) is K x N: B is K x N row-major (ldb) or, when trans_b, N x K row-major.
// The epilogue is applied only when accumulate is false.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
          const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate = false,
          const GemmEpilogue* epilogue = nullptr);

// Fills one micro-panel of packed A: rows [i0, i0 + m) (m <= CpuKernels::mr) by columns
// [p0, p0 + k) of the logical A, in CpuKernels::pack_a's layout (mr x k, column-major,
// zero-padded to mr rows). Called concurrently from the GEMM's threads.
using GemmPackA = std::function<void(int64_t i0, int64_t m, int64_t p0, int64_t k, float* panel)>;

// gemm(false, false, ...) with A never stored: the caller's pack_a produces each micro-panel on
// demand (an implicit GEMM: a convolution gathers its panels straight from the image instead of
// writing and re-reading an im2col matrix). Same blocking, same FMA chains, so the result is
// bit-identical to gemm() on the materialized A when M > small_m_rows (below that gemm() takes
// its unpacked few-row path, which needs A in memory: callers keep using gemm() there).
// accumulate: C += A * B (no epilogue then), as in gemm().
void gemm_pack_a(int64_t M, int64_t N, int64_t K, const GemmPackA& pack_a, const float* B,
                 int64_t ldb, float* C, int64_t ldc, const GemmEpilogue* epilogue = nullptr,
                 bool accumulate = false);

}  // namespace kerasette

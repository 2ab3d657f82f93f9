// GEMM for a handful of rows (predicting one sample, tiny batches): C[m x n] (+)= A[m x k] * B[k x n]
// with B read in place, row by row. Packing B, which the blocked GEMM does, would move more memory
// than this multiplication reads; here each row of B is streamed once per call and fed to m <= 4
// rows of accumulators kept in registers.
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/simd.h"

namespace kerasette::cpu::KS_ISA {
namespace {

constexpr int kVecs = 4;                 // vectors per row of a column block
constexpr int kBlock = kVecs * kW;       // columns of one block
constexpr int kMaxRows = 4;

// One full block of kBlock columns for exactly M rows.
template <int M>
void block_rows(int64_t k, const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t ldb,
                float* c, int64_t ldc, bool accumulate) {
  vf acc[M][kVecs];
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; ++v) acc[i][v] = vf{};
  for (int64_t p = 0; p < k; ++p) {
    const float* brow = b + p * ldb;
    vf bv[kVecs];
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; ++v) bv[v] = load(brow + v * kW);
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) {
      const vf ai = vf{} + a[i * a_rs + p * a_cs];
#pragma GCC unroll 4
      for (int v = 0; v < kVecs; ++v) acc[i][v] += ai * bv[v];
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; ++v) {
      float* dst = c + i * ldc + v * kW;
      store(dst, accumulate ? load(dst) + acc[i][v] : acc[i][v]);
    }
}

// Columns past the last full block: plain dot products down the columns of B (few of them).
void edge_columns(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_rs, int64_t a_cs,
                  const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float s = 0.0f;
      for (int64_t p = 0; p < k; ++p) s += a[i * a_rs + p * a_cs] * b[p * ldb + j];
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s;
    }
}

void gemm_small_m(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_rs, int64_t a_cs,
                  const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  const int64_t full = n / kBlock * kBlock;
  for (int64_t j = 0; j < full; j += kBlock) {
    switch (m) {
      case 1: block_rows<1>(k, a, a_rs, a_cs, b + j, ldb, c + j, ldc, accumulate); break;
      case 2: block_rows<2>(k, a, a_rs, a_cs, b + j, ldb, c + j, ldc, accumulate); break;
      case 3: block_rows<3>(k, a, a_rs, a_cs, b + j, ldb, c + j, ldc, accumulate); break;
      default: block_rows<4>(k, a, a_rs, a_cs, b + j, ldb, c + j, ldc, accumulate); break;
    }
  }
  if (full < n) edge_columns(m, n - full, k, a, a_rs, a_cs, b + full, ldb, c + full, ldc, accumulate);
}

}  // namespace

void fill_gemm_small(CpuKernels& t) {
  t.small_m_rows = kMaxRows;
  t.small_m_block = kBlock;
  t.gemm_small_m = gemm_small_m;
}

}  // namespace kerasette::cpu::KS_ISA

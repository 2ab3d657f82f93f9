// GEMM for a handful of rows (predicting one sample, tiny batches): C[m x n] (+)= A[m x k] * B[k x n]
// with B read in place, row by row. Packing B, which the blocked GEMM does, would move more memory
// than this multiplication reads; here each row of B is streamed once per call and fed to m <= 4
// rows of accumulators kept in registers. Columns past the last full block (an output layer of 10
// classes is nothing but that) run through the same loop on masked vectors. Given a list of the k
// positions where A is not all zero (the caller's choice), only those rows of B are read.
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/simd.h"

namespace kerasette::cpu::KS_ISA {
namespace {

constexpr int kVecs = 4;                 // vectors per row of a column block
constexpr int kBlock = kVecs * kW;       // columns of one block
constexpr int kMaxRows = 4;

// A block of V vectors (V * kW columns, of which the last vector holds `last` <= kW) for exactly
// M rows. Masked loads never touch memory past the block's last column.
template <int M, int V>
void block_rows(int64_t k, const int32_t* k_index, const float* a, int64_t a_rs, int64_t a_cs,
                const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate,
                int64_t last) {
  const bool partial = last < kW;
  vf acc[M][V];
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[i][v] = vf{};
  for (int64_t j = 0; j < k; ++j) {
    const int64_t p = k_index ? k_index[j] : j;
    const float* brow = b + p * ldb;
    vf bv[V];
#pragma GCC unroll 4
    for (int v = 0; v < V - 1; ++v) bv[v] = load(brow + v * kW);
    bv[V - 1] = partial ? load_partial(brow + (V - 1) * kW, last) : load(brow + (V - 1) * kW);
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) {
      const vf ai = splat(a[i * a_rs + p * a_cs]);
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[i][v] = fmadd(ai, bv[v], acc[i][v]);
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      float* dst = c + i * ldc + v * kW;
      if (v == V - 1 && partial) {
        store_partial(dst, accumulate ? load_partial(dst, last) + acc[i][v] : acc[i][v], last);
      } else {
        store(dst, accumulate ? load(dst) + acc[i][v] : acc[i][v]);
      }
    }
}

template <int M>
void rows(int64_t k, const int32_t* ki, const float* a, int64_t a_rs, int64_t a_cs, const float* b,
          int64_t ldb, float* c, int64_t ldc, bool accumulate, int64_t n) {
  int64_t j = 0;
  for (; j + kBlock <= n; j += kBlock)
    block_rows<M, kVecs>(k, ki, a, a_rs, a_cs, b + j, ldb, c + j, ldc, accumulate, kW);
  const int64_t rest = n - j;
  if (rest == 0) return;
  const int64_t vecs = (rest + kW - 1) / kW, last = rest - (vecs - 1) * kW;
  b += j;
  c += j;
  switch (vecs) {
    case 1: block_rows<M, 1>(k, ki, a, a_rs, a_cs, b, ldb, c, ldc, accumulate, last); break;
    case 2: block_rows<M, 2>(k, ki, a, a_rs, a_cs, b, ldb, c, ldc, accumulate, last); break;
    case 3: block_rows<M, 3>(k, ki, a, a_rs, a_cs, b, ldb, c, ldc, accumulate, last); break;
    default: block_rows<M, 4>(k, ki, a, a_rs, a_cs, b, ldb, c, ldc, accumulate, last); break;
  }
}

void gemm_small_m(int64_t m, int64_t n, int64_t k, const int32_t* ki, const float* a, int64_t a_rs,
                  int64_t a_cs, const float* b, int64_t ldb, float* c, int64_t ldc,
                  bool accumulate) {
  switch (m) {
    case 1: rows<1>(k, ki, a, a_rs, a_cs, b, ldb, c, ldc, accumulate, n); break;
    case 2: rows<2>(k, ki, a, a_rs, a_cs, b, ldb, c, ldc, accumulate, n); break;
    case 3: rows<3>(k, ki, a, a_rs, a_cs, b, ldb, c, ldc, accumulate, n); break;
    default: rows<4>(k, ki, a, a_rs, a_cs, b, ldb, c, ldc, accumulate, n); break;
  }
}

int64_t nonzero_columns(int64_t m, int64_t k, const float* a, int64_t a_rs, int64_t a_cs,
                        int32_t* index) {
  int64_t count = 0, p = 0;
  if (a_cs == 1) {  // rows of A contiguous: test kW positions at a time
    vi lane;
    for (int l = 0; l < kW; ++l) lane[l] = l;
    for (; p < k; p += kW) {
      const int64_t r = k - p < kW ? k - p : kW;
      vi nonzero = vi{} != vi{};
      for (int64_t i = 0; i < m; ++i) {
        const float* row = a + i * a_rs + p;
        const vf v = r == kW ? load(row) : load_partial(row, r);
        nonzero |= v != vf{};  // NaN != 0 holds
      }
      const vi positions = lane + static_cast<int32_t>(p);
#if defined(__AVX512F__)
      // Compress in a register, then a plain full-width store (the caller leaves room past the
      // end): a compressing store to memory is microcoded and slow on Zen 4.
      const __mmask16 bits = _mm512_test_epi32_mask((__m512i)nonzero, (__m512i)nonzero);
      _mm512_storeu_si512(index + count, _mm512_maskz_compress_epi32(bits, (__m512i)positions));
      count += __builtin_popcount(bits);
#else
      for (int l = 0; l < kW; ++l) {  // branch-free: always write, advance when nonzero
        index[count] = positions[l];
        count += nonzero[l] != 0;
      }
#endif
    }
    return count;
  }
  for (; p < k; ++p) {
    bool any = false;
    for (int64_t i = 0; i < m; ++i) any |= a[i * a_rs + p * a_cs] != 0.0f;
    index[count] = static_cast<int32_t>(p);
    count += any;
  }
  return count;
}

}  // namespace

void fill_gemm_small(CpuKernels& t) {
  t.small_m_rows = kMaxRows;
  t.small_m_block = kBlock;
  t.gemm_small_m = gemm_small_m;
  t.nonzero_columns = nonzero_columns;
}

}  // namespace kerasette::cpu::KS_ISA

// GEMM building blocks of one ISA build (see kernels.h): packing of A and B into micro-panels and
// the register-blocked micro-kernel C[m x n] (+)= Apanel * Bpanel.
//
// Tiles (rows mr x columns nr of C; C is row-major so columns are the vector dimension):
//   avx512: 12 x 32 (24 zmm accumulators, 2 zmm of B per k, A broadcast)
//   avx2:   6 x 16 (12 ymm accumulators, the classic Haswell tile under 16 registers)
//   generic 6 x 8  (plain loops the compiler vectorizes; 12 SSE2 / NEON accumulators)
// Edges are not a slow path: the micro-kernel is instantiated for every row count 1..mr (so a
// partial panel does only the work of its rows) and for one or all column vectors (so n <= half
// a tile, e.g. a 10-unit Dense output, loads and FMAs one vector per row, not two); the last
// partial vector is stored with a mask (avx512) or through a tiny stack buffer.
//
// Determinism: every variant computes each C element as the same chain acc = fma(a[p], b[p], acc)
// for p = 0..k-1 from acc = 0, then C + acc (accumulate) or acc, so which variant or which tile
// covers an element never changes its bits.
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
#include <immintrin.h>
#endif

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/transpose8.h"

namespace kerasette::cpu::KS_ISA {
namespace {

#if defined(__AVX512F__)
// 24 zmm accumulators (12 rows x 2 vectors) + 2 B vectors + 1 broadcast of the 32 registers.
// The A micro-panel (12 x kc floats, 19 KiB at kc = 400) stays in L1 while the op streams the B
// block (kc x nc, 800 KiB) from L2 once per A panel, so the taller the tile, the less L2 traffic:
// 12 rows measured clearly ahead of 8 on Zen 4 and level with 14 (which wastes more of M = 128).
// kc = 400 rather than 256: K = 784 (MNIST's input) is then 2 blocks, not 4, +5% at
// (128, 784, 512), level elsewhere.
constexpr int kMr = 12;
constexpr int kNr = 32;
constexpr int kVec = 16;
constexpr int64_t kMc = 1536, kKc = 400, kNc = 512;
#elif defined(__AVX2__) && defined(__FMA__)
constexpr int kMr = 6;
constexpr int kNr = 16;
constexpr int kVec = 8;
constexpr int64_t kMc = 1536, kKc = 256, kNc = 512;
#else
constexpr int kMr = 6;
constexpr int kNr = 8;
constexpr int kVec = 8;  // not a register width here; only the column split of the kernel
constexpr int64_t kMc = 1536, kKc = 256, kNc = 256;
#endif
constexpr int kNv = kNr / kVec;  // column vectors per tile
// Cache blocking as ops/gemm.cpp uses it (its loop order keeps the narrow A micro-panel in L1):
// kc x nc floats of packed B (512 KiB) stay in L2 while mc x kc of packed A (1.5 MiB, in L3) is
// walked one micro-panel at a time; mc = 1536 lets half of a 2048-row matrix be one block, so B
// is packed once. kc = 256 keeps the A micro-panel plus streamed B well inside a 32 KiB L1.

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// ------------------------------------------------------------------------------------------------
// Packing
// ------------------------------------------------------------------------------------------------

// Rows of a strided matrix, for transpose_rx8: row i starts at src + i * ss.
KS_INLINE auto strided_rows(const float* src, int64_t ss) {
  return [src, ss](int i) { return src + i * ss; };
}

// One A panel (rows <= kMr, zero-padded to kMr) whose rows are contiguous along k (A row-major):
// 8 x 8 transposes (then 6 or 4 rows) for the bulk, scalar for the last few rows and k steps.
// kFull: rows == kMr known at compile time, so the row groups of the common panel unroll.
template <bool kFull>
void pack_a_panel_rowmajor(int64_t rows_, int64_t k, const float* a, int64_t rs, float* out) {
  const int64_t rows = kFull ? kMr : rows_;
  int64_t p = 0;
  for (; p + 8 <= k; p += 8) {
    int64_t r = 0;
    for (; r + 8 <= rows; r += 8)
      transpose_rx8<8>(strided_rows(a + r * rs + p, rs), out + p * kMr + r, kMr);
    if (r + 6 <= rows) {
      transpose_rx8<6>(strided_rows(a + r * rs + p, rs), out + p * kMr + r, kMr);
      r += 6;
    }
    if (r + 4 <= rows) {
      transpose_rx8<4>(strided_rows(a + r * rs + p, rs), out + p * kMr + r, kMr);
      r += 4;
    }
    for (; r < rows; ++r)
      for (int64_t q = p; q < p + 8; ++q) out[q * kMr + r] = a[r * rs + q];
  }
  for (; p < k; ++p)
    for (int64_t r = 0; r < rows; ++r) out[p * kMr + r] = a[r * rs + p];
  if (rows < kMr)
    for (p = 0; p < k; ++p)
      for (int64_t r = rows; r < kMr; ++r) out[p * kMr + r] = 0.0f;
}

void pack_a(int64_t m, int64_t k, const float* a, int64_t rs, int64_t cs, float* packed) {
  for (int64_t i0 = 0; i0 < m; i0 += kMr, packed += kMr * k) {
    const float* src = a + i0 * rs;
    const int64_t rows = min64(kMr, m - i0);
    if (cs == 1 && rows == kMr) {
      pack_a_panel_rowmajor<true>(rows, k, src, rs, packed);
    } else if (cs == 1) {
      pack_a_panel_rowmajor<false>(rows, k, src, rs, packed);
    } else if (rows == kMr && rs == 1) {  // A transposed: each k step is kMr contiguous floats
      for (int64_t p = 0; p < k; ++p)
        std::memcpy(packed + p * kMr, src + p * cs, sizeof(float) * kMr);
    } else {  // a partial transposed panel, or arbitrary strides: zero-padded to kMr rows
      for (int64_t p = 0; p < k; ++p) {
        float* d = packed + p * kMr;
        for (int64_t i = 0; i < rows; ++i) d[i] = src[i * rs + p * cs];
        for (int64_t i = rows; i < kMr; ++i) d[i] = 0.0f;
      }
    }
  }
}

// d[0, kNr) = s[0, cols) followed by zeros (an edge panel of B). Masked loads never touch memory
// past the end of the row, so this is safe on the last row of a matrix.
inline void copy_pad_row(const float* s, float* d, int64_t cols) {
#if defined(__AVX512F__)
  for (int v = 0; v < kNv; ++v) {
    const int64_t left = cols - v * kVec;
    const __mmask16 mask =
        static_cast<__mmask16>(left >= kVec ? 0xFFFFu : left <= 0 ? 0u : (1u << left) - 1u);
    _mm512_storeu_ps(d + v * kVec, _mm512_maskz_loadu_ps(mask, s + v * kVec));
  }
#elif defined(__AVX2__)
  alignas(32) static const int32_t kOnes[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                0,  0,  0,  0,  0,  0,  0,  0};
  for (int v = 0; v < kNv; ++v) {
    int64_t left = cols - v * kVec;
    left = left < 0 ? 0 : left > kVec ? kVec : left;
    const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kOnes + 8 - left));
    _mm256_storeu_ps(d + v * kVec, _mm256_maskload_ps(s + v * kVec, mask));
  }
#else
  for (int64_t j = 0; j < cols; ++j) d[j] = s[j];
  for (int64_t j = cols; j < kNr; ++j) d[j] = 0.0f;
#endif
}

void pack_b(int64_t k, int64_t n, const float* b, int64_t rs, int64_t cs, float* packed) {
  if (cs == 1) {
    // B row-major: walk B row by row (one sequential read stream, friendly to the prefetchers
    // even when B comes from DRAM) and scatter each row into the panels' write streams.
    // Rows go in groups of kRows so each panel receives a contiguous kRows x kNr run at a time:
    // a single row scattered to every panel would write n / kNr lines a panel apart, and with
    // panels a multiple of 4 KiB long those all fall in one L1 set.
    constexpr int64_t kRows = 8;
    const int64_t full = n / kNr, cols = n - full * kNr;
    const int64_t panel = kNr * k;
    for (int64_t p0 = 0; p0 < k; p0 += kRows) {
      const int64_t p1 = min64(k, p0 + kRows);
      for (int64_t q = 0; q < full; ++q)
        for (int64_t p = p0; p < p1; ++p)
          std::memcpy(packed + q * panel + p * kNr, b + p * rs + q * kNr, sizeof(float) * kNr);
      if (cols)
        for (int64_t p = p0; p < p1; ++p)
          copy_pad_row(b + p * rs + full * kNr, packed + full * panel + p * kNr, cols);
    }
    return;
  }
  for (int64_t j0 = 0; j0 < n; j0 += kNr, packed += kNr * k) {
    const float* src = b + j0 * cs;
    const int64_t cols = min64(kNr, n - j0);
    int64_t p = 0;
    if (rs == 1 && cols == kNr) {  // B transposed: columns of op(B) are contiguous along k
      for (; p + 8 <= k; p += 8)
        for (int j = 0; j < kNr; j += 8)
          transpose_rx8<8>(strided_rows(src + j * cs + p, cs), packed + p * kNr + j, kNr);
    }
    for (; p < k; ++p) {
      float* d = packed + p * kNr;
      for (int64_t j = 0; j < cols; ++j) d[j] = src[p * rs + j * cs];
      for (int64_t j = cols; j < kNr; ++j) d[j] = 0.0f;
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Micro-kernels: M rows (1..kMr) x NV column vectors, n = valid columns in (kVec*(NV-1), kVec*NV].
// ------------------------------------------------------------------------------------------------

#if defined(__AVX512F__)

template <int M, int NV, bool kPackedA = true>
void gemm_f32_avx512_12x32(int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
                           float* c, int64_t ldc,
                           int64_t n, bool accumulate) {
  __m512 acc[M][NV];
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i) {
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  }
  // The C tile is touched only at the end; start its (likely L2/L3) fetch now.
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + kVec * NV - 1), _MM_HINT_T0);
  }
#pragma GCC unroll 4
  for (int64_t p = 0; p < k; ++p) {
    __m512 bv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + v * kVec);
    // B streams from L2; fetching 16 k steps (2 KiB) ahead measured ~1% over the hardware
    // prefetcher alone. Reading past the panel end is harmless (prefetches never fault).
    _mm_prefetch(reinterpret_cast<const char*>(b + 16 * ldb), _MM_HINT_T0);
    if (NV == 2) _mm_prefetch(reinterpret_cast<const char*>(b + 16 * ldb + kVec), _MM_HINT_T0);
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {
      const __m512 av = _mm512_set1_ps(kPackedA ? a[i] : a[i * lda]);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
    }
    a += kPackedA ? kMr : 1;
    b += ldb;
  }
  const int64_t tail = n - kVec * (NV - 1);  // 1..16 valid columns in the last vector
  const __mmask16 mask = static_cast<__mmask16>(tail >= kVec ? 0xFFFFu : (1u << tail) - 1u);
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i) {
    float* cr = c + i * ldc;
#pragma GCC unroll 2
    for (int v = 0; v + 1 < NV; ++v) {
      __m512 r = acc[i][v];
      if (accumulate) r = _mm512_add_ps(_mm512_loadu_ps(cr + v * kVec), r);
      _mm512_storeu_ps(cr + v * kVec, r);
    }
    float* cl = cr + (NV - 1) * kVec;
    __m512 r = acc[i][NV - 1];
    if (accumulate) r = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, cl), r);
    _mm512_mask_storeu_ps(cl, mask, r);
  }
}
#define KS_UKR gemm_f32_avx512_12x32

#elif defined(__AVX2__) && defined(__FMA__)

template <int M, int NV, bool kPackedA = true>
void gemm_f32_avx2_6x16(int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
                        float* c, int64_t ldc,
                        int64_t n, bool accumulate) {
  __m256 acc[M][NV];
#pragma GCC unroll 6
  for (int i = 0; i < M; ++i) {
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_ps();
  }
#pragma GCC unroll 6
  for (int i = 0; i < M; ++i)
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
#pragma GCC unroll 4
  for (int64_t p = 0; p < k; ++p) {
    __m256 bv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) bv[v] = _mm256_loadu_ps(b + v * kVec);
#pragma GCC unroll 6
    for (int i = 0; i < M; ++i) {
      const __m256 av = _mm256_broadcast_ss(kPackedA ? a + i : a + i * lda);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_fmadd_ps(av, bv[v], acc[i][v]);
    }
    a += kPackedA ? kMr : 1;
    b += ldb;
  }
  const int64_t tail = n - kVec * (NV - 1);  // 1..8 valid columns in the last vector
#pragma GCC unroll 6
  for (int i = 0; i < M; ++i) {
    float* cr = c + i * ldc;
#pragma GCC unroll 2
    for (int v = 0; v + 1 < NV; ++v) {
      __m256 r = acc[i][v];
      if (accumulate) r = _mm256_add_ps(_mm256_loadu_ps(cr + v * kVec), r);
      _mm256_storeu_ps(cr + v * kVec, r);
    }
    float* cl = cr + (NV - 1) * kVec;
    if (tail == kVec) {
      __m256 r = acc[i][NV - 1];
      if (accumulate) r = _mm256_add_ps(_mm256_loadu_ps(cl), r);
      _mm256_storeu_ps(cl, r);
    } else {  // same float add as the vector path, so bits do not depend on the tile position
      alignas(32) float tmp[kVec];
      _mm256_store_ps(tmp, acc[i][NV - 1]);
      for (int64_t j = 0; j < tail; ++j) cl[j] = accumulate ? cl[j] + tmp[j] : tmp[j];
    }
  }
}
#define KS_UKR gemm_f32_avx2_6x16

#else

// Portable: the compiler keeps acc in vector registers (SSE2 on x86-64, NEON on aarch64).
template <int M, int NV, bool kPackedA = true>
void gemm_f32_generic_6x8(int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
                          float* c, int64_t ldc,
                           int64_t n, bool accumulate) {
  float acc[M][kNr];
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < kNr; ++j) acc[i][j] = 0.0f;
  for (int64_t p = 0; p < k; ++p) {
    for (int i = 0; i < M; ++i) {
      const float av = kPackedA ? a[i] : a[i * lda];
      for (int j = 0; j < kNr; ++j) acc[i][j] += av * b[j];
    }
    a += kPackedA ? kMr : 1;
    b += ldb;
  }
  for (int i = 0; i < M; ++i) {
    float* cr = c + i * ldc;
    if (accumulate) {
      for (int64_t j = 0; j < n; ++j) cr[j] += acc[i][j];
    } else {
      for (int64_t j = 0; j < n; ++j) cr[j] = acc[i][j];
    }
  }
}
#define KS_UKR gemm_f32_generic_6x8

#endif

// Ukernels<kPackedA>::table[m - 1][nv - 1]: every row count, with one or all column vectors; A
// from a packed panel, or read in place from rows lda apart.
using Ukernel = void (*)(int64_t, const float*, int64_t, const float*, int64_t, float*, int64_t,
                         int64_t, bool);
template <bool kPackedA>
struct Ukernels {
#define KS_ROW(m) {KS_UKR<m, 1, kPackedA>, KS_UKR<m, kNv, kPackedA>}
  static constexpr Ukernel table[kMr][2] = {
      KS_ROW(1), KS_ROW(2), KS_ROW(3), KS_ROW(4), KS_ROW(5), KS_ROW(6),
#if defined(__AVX512F__)
      KS_ROW(7), KS_ROW(8), KS_ROW(9), KS_ROW(10), KS_ROW(11), KS_ROW(12),
#endif
  };
#undef KS_ROW
  static_assert(sizeof(table) / sizeof(table[0]) == kMr, "one entry per row count");
};
#undef KS_UKR

void gemm_ukernel(int64_t k, const float* a_panel, const float* b_panel, float* c, int64_t ldc,
                  int64_t m, int64_t n, bool accumulate) {
  Ukernels<true>::table[m - 1][n > kVec ? 1 : 0](k, a_panel, 0, b_panel, kNr, c, ldc, n,
                                                 accumulate);
}

void gemm_ukernel_rows(int64_t k, const float* a, int64_t lda, const float* b_panel, float* c,
                       int64_t ldc, int64_t m, int64_t n, bool accumulate) {
  Ukernels<false>::table[m - 1][n > kVec ? 1 : 0](k, a, lda, b_panel, kNr, c, ldc, n,
                                                  accumulate);
}

void gemm_ukernel_b_rows(int64_t k, const float* a_panel, const float* b, int64_t ldb, float* c,
                         int64_t ldc, int64_t m, bool accumulate) {
  Ukernels<true>::table[m - 1][1](k, a_panel, 0, b, ldb, c, ldc, kNr, accumulate);
}

}  // namespace

void fill_gemm(CpuKernels& t) {
  t.mr = kMr;
  t.nr = kNr;
  t.mc = kMc;
  t.kc = kKc;
  t.nc = kNc;
  t.pack_a = pack_a;
  t.pack_b = pack_b;
  t.gemm_ukernel = gemm_ukernel;
  t.gemm_ukernel_rows = gemm_ukernel_rows;
  t.gemm_ukernel_b_rows = gemm_ukernel_b_rows;
}

}  // namespace kerasette::cpu::KS_ISA

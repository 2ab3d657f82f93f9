// Packing of a GEMM A micro-panel gathered from anywhere in memory, for the implicit-GEMM
// convolutions of ops/conv2d.cpp. pack_a_rows: one pointer per row, each row contiguous along k
// (forward: row i is a window row of output pixel i, read in place from the image).
// pack_a_columns: one pointer per column, each contiguous along m (weight gradient: column p is
// output pixel p, its rows are input channels of one kernel tap, adjacent in NHWC). Same layout
// as pack_a (mr x k, column-major), so the micro-kernel is unchanged.
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
#include <immintrin.h>
#endif

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/simd.h"

namespace kerasette::cpu::KS_ISA {
namespace {

// dst[p * ds + i] = rows[i][p] for i < R, p < 8: an R x 8 block transposed, each row from its
// own pointer (the streaming 8 x 8 transpose of pack_a, not a per-element gather).
template <int R>
inline void transpose_rows_rx8(const float* const* rows, int64_t p, float* dst, int64_t ds) {
#if defined(__AVX2__)
  __m256 r[8];
  for (int i = 0; i < 8; ++i) r[i] = i < R ? _mm256_loadu_ps(rows[i] + p) : _mm256_setzero_ps();
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  const __m256 o[8] = {
      _mm256_permute2f128_ps(s0, s4, 0x20), _mm256_permute2f128_ps(s1, s5, 0x20),
      _mm256_permute2f128_ps(s2, s6, 0x20), _mm256_permute2f128_ps(s3, s7, 0x20),
      _mm256_permute2f128_ps(s0, s4, 0x31), _mm256_permute2f128_ps(s1, s5, 0x31),
      _mm256_permute2f128_ps(s2, s6, 0x31), _mm256_permute2f128_ps(s3, s7, 0x31)};
  for (int q = 0; q < 8; ++q) {
    if (R == 8)
      _mm256_storeu_ps(dst + q * ds, o[q]);
    else  // R == 4
      _mm_storeu_ps(dst + q * ds, _mm256_castps256_ps128(o[q]));
  }
#else
  for (int q = 0; q < 8; ++q)
    for (int i = 0; i < R; ++i) dst[q * ds + i] = rows[i][p + q];
#endif
}

void pack_a_rows(int64_t m, int64_t mr, int64_t k, const float* const* rows, float* packed) {
  int64_t p = 0;
  for (; p + 8 <= k; p += 8) {
    int64_t i = 0;
    for (; i + 8 <= m; i += 8) transpose_rows_rx8<8>(rows + i, p, packed + p * mr + i, mr);
    if (i + 4 <= m) {
      transpose_rows_rx8<4>(rows + i, p, packed + p * mr + i, mr);
      i += 4;
    }
    for (; i < m; ++i)
      for (int64_t q = p; q < p + 8; ++q) packed[q * mr + i] = rows[i][q];
  }
  for (; p < k; ++p)
    for (int64_t i = 0; i < m; ++i) packed[p * mr + i] = rows[i][p];
  if (m < mr)
    for (p = 0; p < k; ++p)
      for (int64_t i = m; i < mr; ++i) packed[p * mr + i] = 0.0f;
}

void pack_a_columns(int64_t m, int64_t mr, int64_t k, const float* const* cols, float* packed) {
  for (int64_t p = 0; p < k; ++p) {
    const float* src = cols[p];
    float* dst = packed + p * mr;
    for (int64_t i = 0; i < m; i += kW) {
      const int64_t r = m - i < kW ? m - i : kW;
      store_n(dst + i, src ? load_n(src + i, r) : vf{}, r);
    }
  }
}

}  // namespace

void fill_pack_gather(CpuKernels& t) {
  t.pack_a_rows = pack_a_rows;
  t.pack_a_columns = pack_a_columns;
}

}  // namespace kerasette::cpu::KS_ISA

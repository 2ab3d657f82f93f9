// An R x 8 block of floats transposed in registers (R = 4, 6 or 8): dst[q * ds + i] = row(i)[q]
// for i < R, q < 8, row(i) pointing at 8 contiguous floats. The packers use it wherever the packed
// dimension is strided in memory (A row-major, B transposed, an implicit-GEMM gather), so packing
// stays a streaming copy instead of a per-element gather. Included by this folder's files only,
// inside each ISA's namespace like simd.h.
#pragma once
#include "kernels/cpu/simd.h"

namespace kerasette::cpu::KS_ISA {
namespace {

template <int R, typename Row>
KS_INLINE void transpose_rx8(Row row, float* dst, int64_t ds) {
  static_assert(R == 4 || R == 6 || R == 8, "4, 6 or 8 rows");
#if defined(__AVX2__)
  __m256 r[8];
  for (int i = 0; i < 8; ++i) r[i] = i < R ? _mm256_loadu_ps(row(i)) : _mm256_setzero_ps();
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
    float* d = dst + q * ds;
    if (R == 8) {
      _mm256_storeu_ps(d, o[q]);
    } else if (R == 4) {
      _mm_storeu_ps(d, _mm256_castps256_ps128(o[q]));
    } else {  // R == 6: 4 + 2 floats, never writing past the end of the panel
      _mm_storeu_ps(d, _mm256_castps256_ps128(o[q]));
      _mm_storel_pi(reinterpret_cast<__m64*>(d + 4), _mm256_extractf128_ps(o[q], 1));
    }
  }
#else
  for (int i = 0; i < R; ++i) {
    const float* s = row(i);
    for (int q = 0; q < 8; ++q) dst[q * ds + i] = s[q];
  }
#endif
}

}  // namespace
}  // namespace kerasette::cpu::KS_ISA

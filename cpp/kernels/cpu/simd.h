// The vector vocabulary the per-ISA kernels are written in: one float vector type as wide as the
// ISA this file is compiled for (GCC vector extensions), with load/store/splat, fused multiply-add
// and partial (tail) loads and stores. Included only by files in this folder, inside namespace
// kerasette::cpu::KS_ISA, so each ISA build gets its own copy and nothing is shared across builds.
#pragma once
#include <cstdint>
#include <cstring>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace kerasette::cpu::KS_ISA {
namespace {

#define KS_INLINE inline __attribute__((always_inline))

#if defined(__AVX512F__)
constexpr int kW = 16;
#elif defined(__AVX2__)
constexpr int kW = 8;
#else
constexpr int kW = 4;
#endif

typedef float vf __attribute__((vector_size(kW * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(kW * sizeof(float))));
typedef uint32_t vu __attribute__((vector_size(kW * sizeof(float))));

KS_INLINE vf splat(float a) { return vf{} + a; }
KS_INLINE vf load(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
KS_INLINE void store(float* p, vf v) { std::memcpy(p, &v, sizeof v); }

KS_INLINE vf fmadd(vf a, vf b, vf c) {  // a * b + c
#if defined(__AVX512F__)
  return (vf)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
#elif defined(__AVX2__) && defined(__FMA__)
  return (vf)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
#else
  return a * b + c;
#endif
}

KS_INLINE vi lanes_below(int64_t r) {  // lane i is set when i < r
  vi iota;
  for (int i = 0; i < kW; ++i) iota[i] = i;
  return iota < (int32_t)r;
}

// Loads p[0, r) (0 < r < kW), other lanes 0, without touching memory past p + r.
KS_INLINE vf load_partial(const float* p, int64_t r) {
#if defined(__AVX512F__)
  return (vf)_mm512_maskz_loadu_ps((__mmask16)((1u << r) - 1u), p);
#elif defined(__AVX2__)
  return (vf)_mm256_maskload_ps(p, (__m256i)lanes_below(r));
#else
  vf v = {};
  std::memcpy(&v, p, (size_t)r * sizeof(float));
  return v;
#endif
}

KS_INLINE void store_partial(float* p, vf v, int64_t r) {
#if defined(__AVX512F__)
  _mm512_mask_storeu_ps(p, (__mmask16)((1u << r) - 1u), (__m512)v);
#elif defined(__AVX2__)
  _mm256_maskstore_ps(p, (__m256i)lanes_below(r), (__m256)v);
#else
  std::memcpy(p, &v, (size_t)r * sizeof(float));
#endif
}

// r <= kW lanes: a full vector when r == kW, else a partial one.
KS_INLINE vf load_n(const float* p, int64_t r) { return r == kW ? load(p) : load_partial(p, r); }
KS_INLINE void store_n(float* p, vf v, int64_t r) {
  if (r == kW)
    store(p, v);
  else
    store_partial(p, v, r);
}

}  // namespace
}  // namespace kerasette::cpu::KS_ISA

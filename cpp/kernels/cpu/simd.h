// The vector vocabulary the per-ISA kernels are written in: one float vector type as wide as the
// ISA this file is compiled for (GCC vector extensions), with load/store/splat. Included only by
// files in this folder, inside namespace kerasette::cpu::KS_ISA, so each ISA build gets its own
// copy and nothing is shared across builds.
#pragma once
#include <cstdint>
#include <cstring>

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

}  // namespace
}  // namespace kerasette::cpu::KS_ISA

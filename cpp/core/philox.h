// Philox-4x32-10, the counter-based generator behind every random number in kerasette. One
// definition, compiled for the CPU (core/rng.cpp, the dropout layer) and, under nvcc, for the GPU
// kernels too, so that the same counters give the same words on both devices.
#pragma once
#include <cstdint>

#ifdef __CUDACC__
#define KS_PHILOX_FN __host__ __device__ __forceinline__
#else
#define KS_PHILOX_FN inline
#endif

namespace kerasette {

// Four 32-bit random words for counter (stream, block) under key `seed`.
KS_PHILOX_FN void philox4x32(uint64_t seed, uint64_t stream, uint64_t block, uint32_t out[4]) {
  uint32_t c0 = static_cast<uint32_t>(block), c1 = static_cast<uint32_t>(block >> 32);
  uint32_t c2 = static_cast<uint32_t>(stream), c3 = static_cast<uint32_t>(stream >> 32);
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
#ifdef __CUDACC__
#pragma unroll
#endif
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
    const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

// A uniform float in [0, 1) from a word's top 24 bits.
KS_PHILOX_FN float philox_unit(uint32_t x) {
  return static_cast<float>(x >> 8) * (1.0f / 16777216.0f);
}

}  // namespace kerasette

#undef KS_PHILOX_FN

// Philox-4x32-10, the counter-based generator behind every random number in kerasette, and the
// transforms of its words into floats. One definition, compiled for the CPU (core/rng.cpp, the
// dropout layer) and, under nvcc, for the GPU kernels too, so that the same counters give the same
// words, and the same uniform and (but for the last-bit caveat below) normal values, on both.
#pragma once
#include <cmath>
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

// Box-Muller in double on one Philox block: words 0, 1 give z[0], words 2, 3 give z[1]. The
// divisions and sqrt are correctly rounded on both devices; log and cos are glibc's on the CPU and
// libdevice's on the GPU (within 1 and 2 ulp of a double), so a z may differ in its last bits and,
// rarely (near a float rounding boundary), the float drawn from it by one float ulp.
KS_PHILOX_FN void philox_normal_pair(uint64_t seed, uint64_t stream, uint64_t block, double z[2]) {
  uint32_t r[4];
  philox4x32(seed, stream, block, r);
  for (int k = 0; k < 2; ++k) {
    const double u1 = (static_cast<double>(r[2 * k]) + 1.0) / 4294967297.0;  // (0, 1)
    const double u2 = static_cast<double>(r[2 * k + 1]) / 4294967296.0;
    z[k] = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
  }
}

// mean + stddev * z, rounded to float. nvcc would fuse the product and the sum into one FMA, which
// the CPU build (no -mfma for engine code) does not: the GPU rounds each step as the CPU does.
KS_PHILOX_FN float philox_normal_value(double z, float mean, float stddev) {
#ifdef __CUDA_ARCH__
  return static_cast<float>(__dadd_rn(mean, __dmul_rn(stddev, z)));
#else
  return static_cast<float>(mean + stddev * z);
#endif
}

}  // namespace kerasette

#undef KS_PHILOX_FN

#include "core/rng.h"

#include <cmath>

#include "core/parallel.h"

namespace kerasette {

float rng_uniform_at(uint64_t seed, uint64_t stream, uint64_t i) {
  uint32_t r[4];
  philox4x32(seed, stream, i >> 2, r);
  return philox_unit(r[i & 3]);
}

void rng_fill_uniform(float* out, int64_t n, uint64_t seed, uint64_t stream, float lo, float hi) {
  const float span = hi - lo;
  parallel_for((n + 3) / 4, 4096, [&](int64_t b0, int64_t b1) {
    uint32_t r[4];
    for (int64_t b = b0; b < b1; ++b) {
      philox4x32(seed, stream, static_cast<uint64_t>(b), r);
      for (int j = 0; j < 4 && b * 4 + j < n; ++j) out[b * 4 + j] = lo + span * philox_unit(r[j]);
    }
  });
}

void rng_fill_normal(float* out, int64_t n, uint64_t seed, uint64_t stream, float mean, float stddev) {
  parallel_for((n + 1) / 2, 4096, [&](int64_t b0, int64_t b1) {
    double z[2];
    for (int64_t b = b0; b < b1; ++b) {
      philox_normal_pair(seed, stream, static_cast<uint64_t>(b), z);
      for (int j = 0; j < 2 && b * 2 + j < n; ++j)
        out[b * 2 + j] = philox_normal_value(z[j], mean, stddev);
    }
  });
}

void rng_fill_truncated_normal(float* out, int64_t n, uint64_t seed, uint64_t stream, float mean,
                               float stddev) {
  // Element i tries blocks (i, attempt) in a fixed order, so the result is order independent.
  parallel_for(n, 4096, [&](int64_t i0, int64_t i1) {
    double z[2];
    for (int64_t i = i0; i < i1; ++i) {
      for (uint64_t attempt = 0;; ++attempt) {
        philox_normal_pair(seed, mix_seed(stream, attempt), static_cast<uint64_t>(i), z);
        if (std::fabs(z[0]) <= 2.0) {
          out[i] = philox_normal_value(z[0], mean, stddev);
          break;
        }
      }
    }
  });
}

uint64_t mix_seed(uint64_t a, uint64_t b) {
  // splitmix64 finalizer over a combination of both inputs.
  uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace kerasette

// Counter-based random numbers (Philox-4x32-10). A value depends only on (seed, stream, index),
// so any element can be drawn independently, in any order, by any thread: the same seed gives the
// same numbers whatever the thread count. `stream` separates uses (an initializer, a dropout
// layer at a given step) that share a seed.
#pragma once
#include <cstdint>

#include "core/philox.h"

namespace kerasette {

// Uniform in [0, 1) with 24 random bits: element i of the sequence (seed, stream).
float rng_uniform_at(uint64_t seed, uint64_t stream, uint64_t i);

void rng_fill_uniform(float* out, int64_t n, uint64_t seed, uint64_t stream, float lo, float hi);
void rng_fill_normal(float* out, int64_t n, uint64_t seed, uint64_t stream, float mean, float stddev);
// Normal values redrawn until within two standard deviations (Keras's TruncatedNormal).
void rng_fill_truncated_normal(float* out, int64_t n, uint64_t seed, uint64_t stream, float mean,
                               float stddev);

// Mixes two 64-bit values into one (for deriving per-layer seeds and streams).
uint64_t mix_seed(uint64_t a, uint64_t b);

}  // namespace kerasette

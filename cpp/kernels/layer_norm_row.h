// LayerNormalization's per-element formulas. One definition, compiled for the CPU layer
// (nn/normalization_layers.cpp) and, under nvcc, for the GPU kernels
// (kernels/cuda/normalization.cu), so that given a row's mean and inverse deviation both devices
// round every element alike: nvcc would fuse a * b + c into one FMA, which the CPU engine (built
// without -mfma on x86-64) does not, so the device rounds each step explicitly.
#pragma once
#include <cmath>
#include <cstdint>

#ifdef __CUDACC__
#define KS_LAYER_NORM_FN __host__ __device__ __forceinline__
#else
#define KS_LAYER_NORM_FN inline
#endif

namespace kerasette {

// 1 / sqrt(var + epsilon), var the biased variance from a row's K squared deviations summed in sq.
KS_LAYER_NORM_FN float layer_norm_inv_std(double sq, int64_t K, float epsilon) {
  return static_cast<float>(1.0 / sqrt(sq / static_cast<double>(K) + epsilon));
}

KS_LAYER_NORM_FN float layer_norm_xhat(float x, float mean, float inv) { return (x - mean) * inv; }

// y = xhat * gamma + beta.
KS_LAYER_NORM_FN float layer_norm_value(float xhat, float gamma, float beta) {
#ifdef __CUDA_ARCH__
  return __fadd_rn(__fmul_rn(xhat, gamma), beta);
#else
  return xhat * gamma + beta;
#endif
}

// dx = inv * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma, the means over the row.
KS_LAYER_NORM_FN float layer_norm_input_grad(float inv, float g, float xhat, float mean_g,
                                             float mean_gx) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(inv, __fsub_rn(__fsub_rn(g, mean_g), __fmul_rn(xhat, mean_gx)));
#else
  return inv * (g - mean_g - xhat * mean_gx);
#endif
}

}  // namespace kerasette

#undef KS_LAYER_NORM_FN

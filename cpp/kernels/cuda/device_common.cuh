// Device-side helpers shared by the .cu files of this folder: launch checks, grid sizing, warp
// reductions with a fixed tree and the activation formulas. Philox comes from core/philox.h, the
// CPU's own definition.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "core/philox.h"
#include "kernels/cuda/cuda_kernels.h"

namespace kerasette::cuda {

inline void check_launch(const char* what) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(e));
}

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n elements: enough to fill the GPU, capped.
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  int64_t b = (n + threads - 1) / threads;
  if (b < 1) b = 1;
  if (b > 65535LL * 8) b = 65535LL * 8;
  return static_cast<unsigned>(b);
}

#define KS_GRID_STRIDE(i, n)                                                              \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// Warp-per-row loops: lanes stride row r, warps stride the rows (grid_for caps the grid at
// 4,194,240 warps, fewer than the rows of a per-pixel softmax over a large batch of images). A
// warp's lanes share r, so they leave together and may use the warp reductions below.
#define KS_WARP_ROWS(r, rows)                                                                      \
  for (int64_t r = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / 32; r < (rows); \
       r += static_cast<int64_t>(gridDim.x) * blockDim.x / 32)

// A flat NHWC index split into image, row, column and channel for an H x W x C image.
struct Nhwc {
  int64_t n;
  int y, x, c;
};
__device__ __forceinline__ Nhwc split_nhwc(int64_t i, int H, int W, int C) {
  const int c = static_cast<int>(i % C);
  int64_t t = i / C;
  const int x = static_cast<int>(t % W);
  t /= W;
  return {t / H, static_cast<int>(t % H), x, c};
}

// Butterfly sums: every lane ends with the same value, combined in the same order every time.
__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ double warp_sum(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// ---- activations: the CPU's formulas (kernels/cpu/activations.cpp) in scalar form ----

constexpr float kSeluScale = 1.0507009873554805f;
constexpr float kSeluAlpha = 1.6732632423543772f;
constexpr float kGeluC2 = 1.5957691216057308f;  // 2 sqrt(2 / pi): tanh(u) = 2 sigmoid(2u) - 1
constexpr float kGeluK = 0.044715f;

// sigmoid(v) without overflow; *neg receives sigmoid(-v) = 1 - sigmoid(v) without cancellation.
__device__ __forceinline__ float sigmoid2(float v, float* neg) {
  const float e = expf(-fabsf(v));
  const float s = 1.0f / (1.0f + e), es = e * s;
  if (neg) *neg = v >= 0.0f ? es : s;
  return v >= 0.0f ? s : es;
}

__device__ __forceinline__ float hard_sigmoid(float v) {
  return fminf(fmaxf(v + 3.0f, 0.0f), 6.0f) / 6.0f;
}

__device__ __forceinline__ float act_fwd(Act act, float alpha, float v) {
  switch (act) {
    case Act::Relu: return v < 0.0f ? 0.0f : v;  // NaN passes through, as on the CPU
    case Act::Sigmoid: return sigmoid2(v, nullptr);
    case Act::Tanh: return tanhf(v);
    case Act::Elu: return v > 0.0f ? v : alpha * expm1f(v);
    case Act::Selu: return kSeluScale * (v > 0.0f ? v : kSeluAlpha * expm1f(v));
    case Act::LeakyRelu: return v >= 0.0f ? v : alpha * v;
    case Act::Softplus: return log1pf(expf(-fabsf(v))) + fmaxf(v, 0.0f);
    case Act::Softsign: return v / (1.0f + fabsf(v));
    case Act::Swish: return v * sigmoid2(v, nullptr);
    case Act::Gelu:
      if (alpha != 0.0f) return v * sigmoid2(kGeluC2 * v * (1.0f + kGeluK * v * v), nullptr);
      return 0.5f * v * erfcf(-v * 0.70710678118654752f);
    case Act::HardSigmoid: return hard_sigmoid(v);
    case Act::Exponential: return expf(v);
    case Act::Relu6: return fminf(fmaxf(v, 0.0f), 6.0f);
    case Act::Mish: {
      const float e = expf(fminf(v, 20.0f)), m = e * (e + 2.0f);
      return v * (m / (m + 2.0f));
    }
    case Act::HardSwish: return v * hard_sigmoid(v);
    default: return v;
  }
}

// dx = dy * f'(x), using x (pre-activation) or y = f(x) as the CPU does.
__device__ __forceinline__ float act_bwd(Act act, float alpha, float v, float t, float d) {
  switch (act) {
    case Act::Relu: return v > 0.0f ? d : 0.0f;
    case Act::Sigmoid: return d * (t * (1.0f - t));
    case Act::Tanh: return d * (1.0f - t * t);
    case Act::Elu: return v > 0.0f ? d : d * (t + alpha);
    case Act::Selu: return v > 0.0f ? kSeluScale * d : d * (t + kSeluScale * kSeluAlpha);
    case Act::LeakyRelu: return v >= 0.0f ? d : alpha * d;
    case Act::Softplus: return d * sigmoid2(v, nullptr);
    case Act::Softsign: {
      const float q = 1.0f + fabsf(v);
      return d / (q * q);
    }
    case Act::Swish: {
      float sn;
      const float sp = sigmoid2(v, &sn);
      return d * (sp * (v * sn + 1.0f));
    }
    case Act::Gelu:
      if (alpha != 0.0f) {
        float sn;
        const float sp = sigmoid2(kGeluC2 * v * (1.0f + kGeluK * v * v), &sn);
        const float du2 = kGeluC2 * (3.0f * kGeluK * v * v + 1.0f);
        return d * (v * (sp * sn) * du2 + sp);
      } else {
        const float cdf = 0.5f * erfcf(-v * 0.70710678118654752f);
        const float pdf = expf(-0.5f * v * v) * 0.3989422804014327f;
        return d * (v * pdf + cdf);
      }
    case Act::HardSigmoid: return (v > -3.0f && v < 3.0f) ? d * (1.0f / 6.0f) : 0.0f;
    case Act::Exponential: return d * t;
    case Act::Relu6: return (v > 0.0f && v < 6.0f) ? d : 0.0f;
    case Act::Mish: {
      const float e = expf(fminf(v, 20.0f)), m = e * (e + 2.0f);
      const float inv = 1.0f / (m + 2.0f), ts = m * inv, sg = e / (1.0f + e);
      return d * (v * (2.0f * inv) * ((1.0f + ts) * sg) + ts);
    }
    case Act::HardSwish: {
      const float mid = (v + v + 3.0f) / 6.0f;
      return d * (v >= 3.0f ? 1.0f : (v > -3.0f ? mid : 0.0f));
    }
    default: return d;
  }
}

}  // namespace kerasette::cuda

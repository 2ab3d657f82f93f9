// Elementwise CUDA kernels: fill/scale/axpy, activations, row softmax, bias add, column sums,
// Keras's ReLU layer, dropout and the noise layers' draws, and the deterministic reductions the
// graph accumulates its epoch sums with. Grid-stride loops; reductions use fixed trees (see
// device_common.cuh).
#include <memory>

#include "core/cuda_allocator.h"
#include "kernels/cuda/device_common.cuh"

namespace kerasette::cuda {
namespace {

__global__ void fill_kernel(float* x, int64_t n, float v) {
  KS_GRID_STRIDE(i, n) x[i] = v;
}
__global__ void scale_kernel(float* x, int64_t n, float a) {
  KS_GRID_STRIDE(i, n) x[i] *= a;
}
__global__ void clip_kernel(float* x, int64_t n, float lo, float hi) {
  KS_GRID_STRIDE(i, n) x[i] = fminf(fmaxf(x[i], lo), hi);
}
__global__ void axpy_kernel(int64_t n, float a, const float* __restrict__ x, float* __restrict__ y) {
  KS_GRID_STRIDE(i, n) y[i] = a * x[i] + y[i];
}
__global__ void mul_kernel(const float* __restrict__ a, const float* __restrict__ b,
                           float* __restrict__ out, int64_t n) {
  KS_GRID_STRIDE(i, n) out[i] = a[i] * b[i];
}
__global__ void act_forward_kernel(Act act, float alpha, const float* __restrict__ x,
                                   float* __restrict__ y, int64_t n) {
  KS_GRID_STRIDE(i, n) y[i] = act_fwd(act, alpha, x[i]);
}
__global__ void act_backward_kernel(Act act, float alpha, const float* __restrict__ x,
                                    const float* __restrict__ y, const float* __restrict__ dy,
                                    float* __restrict__ dx, int64_t n) {
  KS_GRID_STRIDE(i, n) dx[i] = act_bwd(act, alpha, x[i], y[i], dy[i]);
}

// One warp per row (KS_WARP_ROWS): max, sum of exp(x - max), scale. Lanes stride the row, so any
// width works.
__global__ void softmax_rows_kernel(const float* __restrict__ x, float* __restrict__ y,
                                    int64_t rows, int64_t cols) {
  const int lane = threadIdx.x % 32;
  KS_WARP_ROWS(r, rows) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float m = -INFINITY;
    for (int64_t c = lane; c < cols; c += 32) m = fmaxf(m, xr[c]);
    m = warp_max(m);
    float s = 0.0f;
    for (int64_t c = lane; c < cols; c += 32) {
      const float e = expf(xr[c] - m);
      yr[c] = e;
      s += e;
    }
    const float inv = 1.0f / warp_sum(s);
    for (int64_t c = lane; c < cols; c += 32) yr[c] *= inv;
  }
}

__global__ void softmax_rows_backward_kernel(const float* __restrict__ y,
                                             const float* __restrict__ dy, float* __restrict__ dx,
                                             int64_t rows, int64_t cols) {
  const int lane = threadIdx.x % 32;
  KS_WARP_ROWS(r, rows) {
    const float *yr = y + r * cols, *gr = dy + r * cols;
    float* dr = dx + r * cols;
    float s = 0.0f;
    for (int64_t c = lane; c < cols; c += 32) s = fmaf(yr[c], gr[c], s);
    s = warp_sum(s);
    for (int64_t c = lane; c < cols; c += 32) dr[c] = yr[c] * (gr[c] - s);
  }
}

__global__ void add_bias_kernel(float* __restrict__ y, const float* __restrict__ bias,
                                int64_t rows, int64_t cols) {
  KS_GRID_STRIDE(i, rows * cols) y[i] += bias[i % cols];
}

// Block = 32 columns x kGroups row groups over one chunk of rows (blockIdx.y; the chunk is all
// rows when gridDim.y is 1). Group g sums the chunk's rows g, g + kGroups, ... in order; the groups
// are then added in group order. With several chunks each block writes its chunk's sums to
// part[chunk, cols] and sum_chunks_kernel adds the chunks in order. The tree is fixed by kGroups
// and the chunk length, which depends on the sizes alone.
constexpr int kGroups = 16;
constexpr int64_t kRowChunk = 1024;
__global__ void sum_rows_kernel(const float* __restrict__ x, float* __restrict__ out, int64_t rows,
                                int64_t cols, bool accumulate, int64_t row_chunk) {
  __shared__ float part[kGroups][33];
  const int cx = threadIdx.x % 32, g = threadIdx.x / 32;
  const int64_t c = blockIdx.x * 32LL + cx;
  const int64_t r0 = blockIdx.y * row_chunk;
  const int64_t r1 = rows - r0 < row_chunk ? rows : r0 + row_chunk;
  float s = 0.0f;
  if (c < cols)
    for (int64_t r = r0 + g; r < r1; r += kGroups) s += x[r * cols + c];
  part[g][cx] = s;
  __syncthreads();
  if (g == 0 && c < cols) {
    float t = 0.0f;
    for (int k = 0; k < kGroups; ++k) t += part[k][cx];
    if (gridDim.y > 1) out[blockIdx.y * cols + c] = t;  // a chunk's partial sums
    else out[c] = accumulate ? out[c] + t : t;
  }
}

__global__ void sum_chunks_kernel(const float* __restrict__ part, float* __restrict__ out,
                                  int64_t chunks, int64_t cols, bool accumulate) {
  KS_GRID_STRIDE(c, cols) {
    float t = 0.0f;
    for (int64_t k = 0; k < chunks; ++k) t += part[k * cols + c];
    out[c] = accumulate ? out[c] + t : t;
  }
}

__global__ void relu_layer_forward_kernel(const float* __restrict__ x, float* __restrict__ y,
                                          int64_t n, ReluLayerKinks k) {
  KS_GRID_STRIDE(i, n) y[i] = relu_layer_value(k, x[i]);
}

__global__ void relu_layer_backward_kernel(const float* __restrict__ x, const float* __restrict__ dy,
                                           float* __restrict__ dx, int64_t n, ReluLayerKinks k) {
  KS_GRID_STRIDE(i, n) dx[i] = relu_layer_slope(k, x[i]) * dy[i];
}

// One thread per Philox block of 4 elements, as the CPU draws them.
__global__ void dropout_kernel(const float* __restrict__ x, float* __restrict__ y,
                               float* __restrict__ mask, int64_t n, float rate, float scale,
                               uint64_t seed, uint64_t stream) {
  KS_GRID_STRIDE(b, (n + 3) / 4) {
    uint32_t r[4];
    philox4x32(seed, stream, static_cast<uint64_t>(b), r);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int64_t i = b * 4 + j;
      if (i >= n) break;
      const float m = philox_unit(r[j]) >= rate ? scale : 0.0f;
      mask[i] = m;
      if (x) y[i] = x[i] * m;
    }
  }
}

// The CPU's rng_fill_normal: block b of Philox gives elements 2b and 2b + 1.
__global__ void normal_fill_kernel(float* __restrict__ out, int64_t n, float mean, float stddev,
                                   uint64_t seed, uint64_t stream) {
  KS_GRID_STRIDE(b, (n + 1) / 2) {
    double z[2];
    philox_normal_pair(seed, stream, static_cast<uint64_t>(b), z);
    out[2 * b] = philox_normal_value(z[0], mean, stddev);
    if (2 * b + 1 < n) out[2 * b + 1] = philox_normal_value(z[1], mean, stddev);
  }
}

__global__ void mul_channels_kernel(const float* __restrict__ x, const float* __restrict__ m,
                                    float* __restrict__ y, int64_t steps, int64_t channels,
                                    int64_t n) {
  KS_GRID_STRIDE(i, n) y[i] = x[i] * m[i / (steps * channels) * channels + i % channels];
}

// Single-block reductions in double: thread t sums t, t + 256, ... in order, then a shared
// tree of fixed shape. Used on per-sample vectors and weights, once per step.
constexpr int kReduceThreads = 256;

__device__ double block_reduce(double v) {
  __shared__ double buf[kReduceThreads];
  buf[threadIdx.x] = v;
  __syncthreads();
  for (int w = kReduceThreads / 2; w > 0; w >>= 1) {
    if (threadIdx.x < w) buf[threadIdx.x] += buf[threadIdx.x + w];
    __syncthreads();
  }
  return buf[0];
}

__global__ void weighted_sum_kernel(const float* __restrict__ x, const float* __restrict__ w,
                                    int64_t n, double scale, double* acc) {
  double s = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += kReduceThreads)
    s += static_cast<double>(x[i]) * (w ? static_cast<double>(w[i]) : 1.0);
  s = block_reduce(s);
  if (threadIdx.x == 0) acc[0] += scale * s;
}

__global__ void penalty_kernel(const float* __restrict__ w, float* __restrict__ g, int64_t n,
                               float l1, float l2, double scale, double* acc) {
  double s = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += kReduceThreads) {
    const float v = w[i];
    s += static_cast<double>(l1 * fabsf(v) + l2 * v * v);
    if (g) g[i] += l1 * (v > 0 ? 1.0f : (v < 0 ? -1.0f : 0.0f)) + 2.0f * l2 * v;
  }
  s = block_reduce(s);
  if (threadIdx.x == 0) acc[0] += scale * s;
}

__global__ void coef_kernel(float* coef, const float* w, int64_t n, float base) {
  KS_GRID_STRIDE(i, n) coef[i] = w ? base * w[i] : base;
}

__global__ void sum_squares_kernel(const float* __restrict__ x, int64_t n, double* out) {
  double s = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += kReduceThreads) {
    const double v = x[i];
    s += v * v;
  }
  s = block_reduce(s);
  if (threadIdx.x == 0) out[0] = s;
}

}  // namespace

void fill(float* x, int64_t n, float value) {
  if (n <= 0) return;
  fill_kernel<<<grid_for(n), kThreads>>>(x, n, value);
  check_launch("fill");
}
void scale(float* x, int64_t n, float a) {
  if (n <= 0) return;
  scale_kernel<<<grid_for(n), kThreads>>>(x, n, a);
  check_launch("scale");
}
void clip(float* x, int64_t n, float lo, float hi) {
  if (n <= 0) return;
  clip_kernel<<<grid_for(n), kThreads>>>(x, n, lo, hi);
  check_launch("clip");
}
void axpy(int64_t n, float a, const float* x, float* y) {
  if (n <= 0) return;
  axpy_kernel<<<grid_for(n), kThreads>>>(n, a, x, y);
  check_launch("axpy");
}
void mul(const float* a, const float* b, float* out, int64_t n) {
  if (n <= 0) return;
  mul_kernel<<<grid_for(n), kThreads>>>(a, b, out, n);
  check_launch("mul");
}
void act_forward(Act act, float alpha, const float* x, float* y, int64_t n) {
  if (n <= 0) return;
  act_forward_kernel<<<grid_for(n), kThreads>>>(act, alpha, x, y, n);
  check_launch("act_forward");
}
void act_backward(Act act, float alpha, const float* x, const float* y, const float* dy, float* dx,
                  int64_t n) {
  if (n <= 0) return;
  act_backward_kernel<<<grid_for(n), kThreads>>>(act, alpha, x, y, dy, dx, n);
  check_launch("act_backward");
}
void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  softmax_rows_kernel<<<grid_for(rows * 32), kThreads>>>(x, y, rows, cols);
  check_launch("softmax_rows");
}
void softmax_rows_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  softmax_rows_backward_kernel<<<grid_for(rows * 32), kThreads>>>(y, dy, dx, rows, cols);
  check_launch("softmax_rows_backward");
}
void add_bias_rows(float* y, const float* bias, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  add_bias_kernel<<<grid_for(rows * cols), kThreads>>>(y, bias, rows, cols);
  check_launch("add_bias_rows");
}
void sum_rows(const float* x, float* out, int64_t rows, int64_t cols, bool accumulate) {
  if (cols <= 0) return;
  const unsigned col_blocks = static_cast<unsigned>((cols + 31) / 32);
  // A bias gradient over every pixel of a batch has tens of thousands of rows: cut them into
  // chunks so that more than a block or two share the work.
  const int64_t chunks = rows >= 4 * kRowChunk ? (rows + kRowChunk - 1) / kRowChunk : 1;
  if (chunks == 1 || chunks > 65535) {
    sum_rows_kernel<<<col_blocks, 32 * kGroups>>>(x, out, rows, cols, accumulate, rows);
    check_launch("sum_rows");
    return;
  }
  const std::shared_ptr<void> part = device_alloc(static_cast<size_t>(chunks * cols) * sizeof(float));
  float* p = static_cast<float*>(part.get());
  sum_rows_kernel<<<dim3(col_blocks, static_cast<unsigned>(chunks)), 32 * kGroups>>>(
      x, p, rows, cols, false, kRowChunk);
  check_launch("sum_rows");
  sum_chunks_kernel<<<grid_for(cols), kThreads>>>(p, out, chunks, cols, accumulate);
  check_launch("sum_rows (chunk sums)");
}
void relu_layer_forward(const float* x, float* y, int64_t n, const ReluLayerKinks& k) {
  if (n <= 0) return;
  relu_layer_forward_kernel<<<grid_for(n), kThreads>>>(x, y, n, k);
  check_launch("relu_layer_forward");
}
void relu_layer_backward(const float* x, const float* dy, float* dx, int64_t n,
                         const ReluLayerKinks& k) {
  if (n <= 0) return;
  relu_layer_backward_kernel<<<grid_for(n), kThreads>>>(x, dy, dx, n, k);
  check_launch("relu_layer_backward");
}
void dropout_forward(const float* x, float* y, float* mask, int64_t n, float rate, float scale,
                     uint64_t seed, uint64_t stream) {
  if (n <= 0) return;
  dropout_kernel<<<grid_for((n + 3) / 4), kThreads>>>(x, y, mask, n, rate, scale, seed, stream);
  check_launch("dropout_forward");
}
void normal_fill(float* out, int64_t n, float mean, float stddev, uint64_t seed, uint64_t stream) {
  if (n <= 0) return;
  normal_fill_kernel<<<grid_for((n + 1) / 2), kThreads>>>(out, n, mean, stddev, seed, stream);
  check_launch("normal_fill");
}
void mul_channels(const float* x, const float* m, float* y, int64_t samples, int64_t steps,
                  int64_t channels) {
  const int64_t n = samples * steps * channels;
  if (n <= 0) return;
  mul_channels_kernel<<<grid_for(n), kThreads>>>(x, m, y, steps, channels, n);
  check_launch("mul_channels");
}
void weighted_sum_into(const float* x, const float* w, int64_t n, double scale, double* acc) {
  weighted_sum_kernel<<<1, kReduceThreads>>>(x, w, n, scale, acc);
  check_launch("weighted_sum_into");
}
void penalty_into(const float* w, float* g, int64_t n, float l1, float l2, double scale,
                  double* acc) {
  penalty_kernel<<<1, kReduceThreads>>>(w, g, n, l1, l2, scale, acc);
  check_launch("penalty_into");
}
void loss_coefficients(float* coef, const float* w, int64_t n, float base) {
  if (n <= 0) return;
  coef_kernel<<<grid_for(n), kThreads>>>(coef, w, n, base);
  check_launch("loss_coefficients");
}
double sum_squares(const float* x, int64_t n) {
  // One result slot for the process, made on first use: no allocation per call.
  static double* d = [] {
    double* p = nullptr;
    cudaMalloc(&p, sizeof(double));
    return p;
  }();
  check_launch("sum_squares (cudaMalloc)");
  sum_squares_kernel<<<1, kReduceThreads>>>(x, n, d);
  check_launch("sum_squares");
  double h = 0.0;
  cudaMemcpy(&h, d, sizeof(double), cudaMemcpyDeviceToHost);
  check_launch("sum_squares (copy)");
  return h;
}

}  // namespace kerasette::cuda

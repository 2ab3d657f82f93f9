// BatchNormalization over the last axis of x[rows, C] (nn/batch_norm.cpp holds the formulas),
// LayerNormalization over rows of K values (kernels/layer_norm_row.h, nn/normalization_layers.cpp)
// and the Normalization preprocessing layer (one elementwise kernel reading its statistics).
// Per-channel sums are taken in double, as on the CPU: each block sums one chunk of rows (256;
// longer past 16.7M rows) for 32 channels (kGroups row groups, each in row order, then the groups
// in order) into part[chunk, C], and a one-thread-per-channel kernel adds the chunks in chunk
// order. LayerNormalization's row statistics use one warp per row, lanes striding the row in
// double, combined by warp_sum's fixed butterfly (the CPU adds in index order: the two agree to
// double rounding). Every tree depends on the sizes alone: the same bits on every run.
#include <memory>

#include "core/cuda_allocator.h"
#include "kernels/cuda/device_common.cuh"
#include "kernels/layer_norm_row.h"

namespace kerasette::cuda {
namespace {

constexpr int kGroups = 8;
constexpr int64_t kChunkRows = 256;

// Rows per chunk: kChunkRows, longer past 65,535 chunks (the grid's y limit). From the size alone.
__host__ __device__ inline int64_t chunk_rows(int64_t rows) {
  const int64_t fit = (rows + 65534) / 65535;
  return fit > kChunkRows ? fit : kChunkRows;
}

enum class Sum : int { X, SquaredDeviation, DyAndDyXhat, DyAndDyXhatRows };

// part[chunk * C + j] (and part2 for the DyAndDyXhat kinds) over the chunk's rows of:
//   X: x;  SquaredDeviation: (x - mean_d[j])^2;  DyAndDyXhat: dy and dy * (x - mean[j]) * inv[j];
//   DyAndDyXhatRows: dy and dy * xhat with LayerNormalization's per-row mean[r] and inv[r].
__global__ void column_partials(Sum what, const float* __restrict__ x, const float* __restrict__ dy,
                                const double* __restrict__ mean_d, const float* __restrict__ mean,
                                const float* __restrict__ inv, int64_t rows, int64_t C,
                                double* __restrict__ part, double* __restrict__ part2) {
  __shared__ double s1[kGroups][33], s2[kGroups][33];
  const int cx = threadIdx.x % 32, g = threadIdx.x / 32;
  const int64_t j = blockIdx.x * 32LL + cx;
  const int64_t chunk = chunk_rows(rows);
  const int64_t r0 = blockIdx.y * chunk;
  const int64_t r1 = rows - r0 < chunk ? rows : r0 + chunk;
  double a = 0.0, b = 0.0;
  if (j < C) {
    for (int64_t r = r0 + g; r < r1; r += kGroups) {
      const double v = x[r * C + j];
      if (what == Sum::X) {
        a += v;
      } else if (what == Sum::SquaredDeviation) {
        const double d = v - mean_d[j];
        a += d * d;
      } else if (what == Sum::DyAndDyXhat) {
        const double d = dy[r * C + j];
        a += d;
        b += d * (v - static_cast<double>(mean[j])) * static_cast<double>(inv[j]);
      } else {
        const double d = dy[r * C + j];
        a += d;
        b += d * static_cast<double>(layer_norm_xhat(x[r * C + j], mean[r], inv[r]));
      }
    }
  }
  s1[g][cx] = a;
  s2[g][cx] = b;
  __syncthreads();
  if (g == 0 && j < C) {
    double t1 = 0.0, t2 = 0.0;
    for (int k = 0; k < kGroups; ++k) {
      t1 += s1[k][cx];
      t2 += s2[k][cx];
    }
    part[blockIdx.y * C + j] = t1;
    if (part2) part2[blockIdx.y * C + j] = t2;
  }
}

__device__ __forceinline__ double chunk_total(const double* part, int64_t chunks, int64_t C,
                                              int64_t j) {
  double t = 0.0;
  for (int64_t k = 0; k < chunks; ++k) t += part[k * C + j];
  return t;
}

__global__ void finalize_mean(const double* __restrict__ part, int64_t chunks, int64_t rows,
                              int64_t C, double* __restrict__ mean_d) {
  KS_GRID_STRIDE(j, C) mean_d[j] = chunk_total(part, chunks, C, j) / static_cast<double>(rows);
}

__global__ void finalize_stats(const double* __restrict__ part, const double* __restrict__ mean_d,
                               int64_t chunks, int64_t rows, int64_t C, float momentum, float eps,
                               float* __restrict__ mean, float* __restrict__ inv_std,
                               float* __restrict__ moving_mean, float* __restrict__ moving_var) {
  KS_GRID_STRIDE(j, C) {
    const double var = chunk_total(part, chunks, C, j) / static_cast<double>(rows);  // biased
    mean[j] = static_cast<float>(mean_d[j]);
    inv_std[j] = static_cast<float>(1.0 / sqrt(var + static_cast<double>(eps)));
    moving_mean[j] = moving_mean[j] * momentum + static_cast<float>(mean_d[j]) * (1.0f - momentum);
    moving_var[j] = moving_var[j] * momentum + static_cast<float>(var) * (1.0f - momentum);
  }
}

__global__ void moving_stats(const float* __restrict__ moving_mean,
                             const float* __restrict__ moving_var, int64_t C, float eps,
                             float* __restrict__ mean, float* __restrict__ inv_std) {
  KS_GRID_STRIDE(j, C) {
    mean[j] = moving_mean[j];
    inv_std[j] = 1.0f / sqrtf(moving_var[j] + eps);
  }
}

__global__ void apply_kernel(const float* __restrict__ x, const float* __restrict__ mean,
                             const float* __restrict__ inv_std, const float* __restrict__ gamma,
                             const float* __restrict__ beta, float* __restrict__ y, int64_t rows,
                             int64_t C) {
  KS_GRID_STRIDE(i, rows * C) {
    const int64_t j = i % C;
    const float a = inv_std[j] * (gamma ? gamma[j] : 1.0f);
    const float b = (beta ? beta[j] : 0.0f) - mean[j] * a;
    y[i] = x[i] * a + b;
  }
}

__global__ void param_grads(const double* __restrict__ part_dy, const double* __restrict__ part_dyx,
                            int64_t chunks, int64_t C, bool accumulate, float* __restrict__ dgamma,
                            float* __restrict__ dbeta, float* __restrict__ mean_dy,
                            float* __restrict__ mean_dyx, int64_t rows, bool batch_stats) {
  KS_GRID_STRIDE(j, C) {
    const double sdy = chunk_total(part_dy, chunks, C, j);
    const double sdyx = chunk_total(part_dyx, chunks, C, j);
    if (dgamma) dgamma[j] = (accumulate ? dgamma[j] : 0.0f) + static_cast<float>(sdyx);
    if (dbeta) dbeta[j] = (accumulate ? dbeta[j] : 0.0f) + static_cast<float>(sdy);
    if (!mean_dy) continue;  // LayerNormalization: the parameter gradients only
    const bool use = batch_stats && rows > 0;
    mean_dy[j] = use ? static_cast<float>(sdy / static_cast<double>(rows)) : 0.0f;
    mean_dyx[j] = use ? static_cast<float>(sdyx / static_cast<double>(rows)) : 0.0f;
  }
}

__global__ void input_grad(const float* __restrict__ x, const float* __restrict__ dy,
                           const float* __restrict__ mean, const float* __restrict__ inv_std,
                           const float* __restrict__ gamma, const float* __restrict__ mean_dy,
                           const float* __restrict__ mean_dyx, float* __restrict__ dx,
                           int64_t rows, int64_t C) {
  KS_GRID_STRIDE(i, rows * C) {
    const int64_t j = i % C;
    const float k = inv_std[j] * (gamma ? gamma[j] : 1.0f);
    if (!mean_dy) {  // moving statistics: constants
      dx[i] = k * dy[i];
      continue;
    }
    const float xhat = (x[i] - mean[j]) * inv_std[j];
    dx[i] = k * (dy[i] - mean_dy[j] - xhat * mean_dyx[j]);
  }
}

__global__ void layer_norm_forward_kernel(const float* __restrict__ x,
                                          const float* __restrict__ gamma,
                                          const float* __restrict__ beta, int64_t rows, int64_t K,
                                          float eps, float* __restrict__ y,
                                          float* __restrict__ mean, float* __restrict__ inv) {
  const int lane = threadIdx.x % 32;
  KS_WARP_ROWS(r, rows) {
    const float* xr = x + r * K;
    double s = 0.0, sq = 0.0;
    for (int64_t j = lane; j < K; j += 32) s += xr[j];
    const double mu = warp_sum(s) / static_cast<double>(K);
    for (int64_t j = lane; j < K; j += 32) {
      const double d = xr[j] - mu;
      sq += d * d;
    }
    const float m = static_cast<float>(mu), iv = layer_norm_inv_std(warp_sum(sq), K, eps);
    if (lane == 0) {
      mean[r] = m;
      inv[r] = iv;
    }
    float* yr = y + r * K;
    for (int64_t j = lane; j < K; j += 32)
      yr[j] = layer_norm_value(layer_norm_xhat(xr[j], m, iv), gamma ? gamma[j] : 1.0f,
                               beta ? beta[j] : 0.0f);
  }
}

__global__ void layer_norm_input_grad_kernel(const float* __restrict__ x,
                                             const float* __restrict__ dy,
                                             const float* __restrict__ mean,
                                             const float* __restrict__ inv,
                                             const float* __restrict__ gamma, int64_t rows,
                                             int64_t K, float* __restrict__ dx) {
  const int lane = threadIdx.x % 32;
  KS_WARP_ROWS(r, rows) {
    const float *xr = x + r * K, *dyr = dy + r * K;
    const float m = mean[r], iv = inv[r];
    double sg = 0.0, sgx = 0.0;  // sums of g = dy * gamma and of g * xhat
    for (int64_t j = lane; j < K; j += 32) {
      const double g = static_cast<double>(dyr[j]) * (gamma ? gamma[j] : 1.0f);  // exact
      sg += g;
      sgx += g * layer_norm_xhat(xr[j], m, iv);
    }
    const float mg = static_cast<float>(warp_sum(sg) / static_cast<double>(K));
    const float mgx = static_cast<float>(warp_sum(sgx) / static_cast<double>(K));
    float* dxr = dx + r * K;
    for (int64_t j = lane; j < K; j += 32)
      dxr[j] = layer_norm_input_grad(iv, dyr[j] * (gamma ? gamma[j] : 1.0f),
                                     layer_norm_xhat(xr[j], m, iv), mg, mgx);
  }
}

int64_t chunks_of(int64_t rows) {
  return rows > 0 ? (rows + chunk_rows(rows) - 1) / chunk_rows(rows) : 1;
}

dim3 partial_grid(int64_t rows, int64_t C) {
  return dim3(static_cast<unsigned>((C + 31) / 32), static_cast<unsigned>(chunks_of(rows)));
}

__global__ void normalization_apply_kernel(const float* __restrict__ x, float* __restrict__ y,
                                           int64_t n, const float* __restrict__ mean,
                                           const float* __restrict__ var, int64_t k, float eps,
                                           bool invert, bool backward) {
  KS_GRID_STRIDE(i, n) {
    const int64_t j = i % k;
    const float r = sqrtf(var[j]);
    const float s = r < eps ? eps : r;  // std::max's order: a NaN root stays NaN, as on the CPU
    const float a = invert ? s : __fdiv_rn(1.0f, s);
    if (backward)
      y[i] = __fmul_rn(x[i], a);
    else if (invert)
      y[i] = __fadd_rn(__fmul_rn(x[i], a), mean[j]);
    else
      y[i] = __fmul_rn(__fsub_rn(x[i], mean[j]), a);
  }
}

}  // namespace

void batch_norm_stats(const float* x, int64_t rows, int64_t C, float momentum, float eps,
                      float* mean, float* inv_std, float* moving_mean, float* moving_var) {
  if (C <= 0 || rows <= 0) return;
  const int64_t chunks = chunks_of(rows);
  // part[chunks * C], then mean_d[C], in one allocation.
  const std::shared_ptr<void> ws = device_alloc(static_cast<size_t>((chunks + 1) * C) * sizeof(double));
  double* part = static_cast<double*>(ws.get());
  double* mean_d = part + chunks * C;
  column_partials<<<partial_grid(rows, C), 32 * kGroups>>>(Sum::X, x, nullptr, nullptr, nullptr,
                                                           nullptr, rows, C, part, nullptr);
  check_launch("batch_norm_stats (sums)");
  finalize_mean<<<grid_for(C), kThreads>>>(part, chunks, rows, C, mean_d);
  check_launch("batch_norm_stats (mean)");
  column_partials<<<partial_grid(rows, C), 32 * kGroups>>>(Sum::SquaredDeviation, x, nullptr,
                                                           mean_d, nullptr, nullptr, rows, C, part,
                                                           nullptr);
  check_launch("batch_norm_stats (squares)");
  finalize_stats<<<grid_for(C), kThreads>>>(part, mean_d, chunks, rows, C, momentum, eps, mean,
                                            inv_std, moving_mean, moving_var);
  check_launch("batch_norm_stats (variance)");
}

void batch_norm_moving(const float* moving_mean, const float* moving_var, int64_t C, float eps,
                       float* mean, float* inv_std) {
  if (C <= 0) return;
  moving_stats<<<grid_for(C), kThreads>>>(moving_mean, moving_var, C, eps, mean, inv_std);
  check_launch("batch_norm_moving");
}

void batch_norm_apply(const float* x, const float* mean, const float* inv_std, const float* gamma,
                      const float* beta, float* y, int64_t rows, int64_t C) {
  if (rows * C <= 0) return;
  apply_kernel<<<grid_for(rows * C), kThreads>>>(x, mean, inv_std, gamma, beta, y, rows, C);
  check_launch("batch_norm_apply");
}

void batch_norm_backward(const float* x, const float* dy, const float* mean, const float* inv_std,
                         const float* gamma, int64_t rows, int64_t C, bool batch_stats,
                         float* dgamma, float* dbeta, bool accumulate, float* dx) {
  if (C <= 0) return;
  if (!batch_stats && !dgamma && !dbeta) {  // a frozen layer: no sums are needed
    if (dx && rows > 0) {
      input_grad<<<grid_for(rows * C), kThreads>>>(x, dy, mean, inv_std, gamma, nullptr, nullptr,
                                                   dx, rows, C);
      check_launch("batch_norm_backward (input)");
    }
    return;
  }
  const int64_t chunks = chunks_of(rows);
  // part_dy, part_dyx [chunks * C] doubles, then mean_dy, mean_dyx [C] floats.
  const size_t doubles = static_cast<size_t>(2 * chunks * C);
  const std::shared_ptr<void> ws =
      device_alloc(doubles * sizeof(double) + static_cast<size_t>(2 * C) * sizeof(float));
  double* part_dy = static_cast<double*>(ws.get());
  double* part_dyx = part_dy + chunks * C;
  float* mean_dy = reinterpret_cast<float*>(part_dy + doubles);
  float* mean_dyx = mean_dy + C;
  if (rows > 0) {
    column_partials<<<partial_grid(rows, C), 32 * kGroups>>>(Sum::DyAndDyXhat, x, dy, nullptr,
                                                             mean, inv_std, rows, C, part_dy,
                                                             part_dyx);
    check_launch("batch_norm_backward (sums)");
  } else {
    memset_zero(part_dy, doubles * sizeof(double));
  }
  param_grads<<<grid_for(C), kThreads>>>(part_dy, part_dyx, chunks, C, accumulate, dgamma, dbeta,
                                         mean_dy, mean_dyx, rows, batch_stats);
  check_launch("batch_norm_backward (parameters)");
  if (dx && rows > 0) {
    input_grad<<<grid_for(rows * C), kThreads>>>(x, dy, mean, inv_std, gamma, mean_dy, mean_dyx,
                                                 dx, rows, C);
    check_launch("batch_norm_backward (input)");
  }
}

void layer_norm_forward(const float* x, const float* gamma, const float* beta, int64_t rows,
                        int64_t K, float eps, float* y, float* mean, float* inv_std) {
  if (rows <= 0 || K <= 0) return;
  layer_norm_forward_kernel<<<grid_for(rows * 32), kThreads>>>(x, gamma, beta, rows, K, eps, y,
                                                               mean, inv_std);
  check_launch("layer_norm_forward");
}

void layer_norm_backward(const float* x, const float* dy, const float* mean, const float* inv_std,
                         const float* gamma, int64_t rows, int64_t K, float* dgamma, float* dbeta,
                         bool accumulate, float* dx) {
  if (K <= 0) return;
  if (dgamma || dbeta) {
    const int64_t chunks = chunks_of(rows);
    const size_t doubles = static_cast<size_t>(2 * chunks * K);  // part_dy, part_dyx
    const std::shared_ptr<void> ws = device_alloc(doubles * sizeof(double));
    double* part_dy = static_cast<double*>(ws.get());
    double* part_dyx = part_dy + chunks * K;
    if (rows > 0) {
      column_partials<<<partial_grid(rows, K), 32 * kGroups>>>(
          Sum::DyAndDyXhatRows, x, dy, nullptr, mean, inv_std, rows, K, part_dy, part_dyx);
      check_launch("layer_norm_backward (sums)");
    } else {
      memset_zero(part_dy, doubles * sizeof(double));
    }
    param_grads<<<grid_for(K), kThreads>>>(part_dy, part_dyx, chunks, K, accumulate, dgamma, dbeta,
                                           nullptr, nullptr, rows, false);
    check_launch("layer_norm_backward (parameters)");
  }
  if (dx && rows > 0) {
    layer_norm_input_grad_kernel<<<grid_for(rows * 32), kThreads>>>(x, dy, mean, inv_std, gamma,
                                                                    rows, K, dx);
    check_launch("layer_norm_backward (input)");
  }
}

void normalization_apply(const float* x, float* y, int64_t n, const float* mean, const float* var,
                         int64_t k, float eps, bool invert, bool backward) {
  if (n <= 0 || k <= 0) return;
  normalization_apply_kernel<<<grid_for(n), kThreads>>>(x, y, n, mean, var, k, eps, invert,
                                                        backward);
  check_launch("normalization_apply");
}

}  // namespace kerasette::cuda

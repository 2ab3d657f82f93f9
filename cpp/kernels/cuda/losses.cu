// Losses (value per sample and gradient, in one pass) and metrics (value per sample) on the GPU:
// the formulas of kernels/loss_elements.h, nn/losses.cpp, nn/row_losses.cpp and nn/metrics.cpp. A loss uses one warp per sample, lanes
// striding the sample's values, per-lane sums in double combined by a fixed butterfly; a metric
// uses one thread per sample.
#include "kernels/cuda/device_common.cuh"

namespace kerasette::cuda {
namespace {

constexpr float kEpsilon = 1e-7f;  // Keras's backend.epsilon()

__device__ __forceinline__ float clampf(float x, float lo, float hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

__device__ __forceinline__ int64_t warp_index() {
  return (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / 32;
}

template <ElementwiseLoss K>
__global__ void elementwise_loss_kernel(float param, const float* __restrict__ flag,
                                        const float* __restrict__ pred,
                                        const float* __restrict__ target,
                                        const float* __restrict__ coef, float* per_sample,
                                        float* __restrict__ grad, int64_t n, int64_t d,
                                        int64_t div) {
  const int64_t i = warp_index();
  const int lane = threadIdx.x % 32;
  if (i >= n) return;
  if (flag) param = *flag;
  const float *p = pred + i * d, *t = target + i * d;
  const float scale = grad ? coef[i] / static_cast<float>(div) : 0.0f;
  double acc = 0.0;
  for (int64_t j = lane; j < d; j += 32) {
    float dl;
    acc += elementwise_loss_value<K>(p[j], t[j], param, &dl);
    if (grad) grad[i * d + j] = scale * dl;
  }
  acc = warp_sum(acc);
  if (lane == 0) per_sample[i] = static_cast<float>(acc / static_cast<double>(div));
}

__global__ void set_one_kernel(float* flag) { *flag = 1.0f; }

// Every thread that sees a value other than 0 or 1 writes 0: the same result in any order.
__global__ void binary_labels_kernel(const float* __restrict__ t, int64_t count, float* flag) {
  KS_GRID_STRIDE(j, count) {
    if (t[j] != 0.0f && t[j] != 1.0f) *flag = 0.0f;
  }
}

// One row of c values: lanes stride it, sums in double combined by warp_sum.
__global__ void cosine_kernel(const float* __restrict__ pred, const float* __restrict__ target,
                              const float* __restrict__ coef, float* per_sample,
                              float* __restrict__ grad, int64_t n, int64_t rows_per_sample,
                              int64_t c, float sign) {
  const int64_t i = warp_index();
  const int lane = threadIdx.x % 32;
  if (i >= n) return;
  const float scale = coef[i] / static_cast<float>(rows_per_sample);
  double total = 0.0;
  for (int64_t rr = 0; rr < rows_per_sample; ++rr) {
    const int64_t r = i * rows_per_sample + rr;
    const float *p = pred + r * c, *t = target + r * c;
    double spp = 0.0, stt = 0.0, spt = 0.0;
    for (int64_t j = lane; j < c; j += 32) {
      spp += static_cast<double>(p[j]) * p[j];
      stt += static_cast<double>(t[j]) * t[j];
      spt += static_cast<double>(p[j]) * t[j];
    }
    spp = warp_sum(spp);
    stt = warp_sum(stt);
    spt = warp_sum(spt);
    // Keras's normalize: x * min(rsqrt(sum x^2), 1 / eps).
    const double inv_p = fmin(1.0 / sqrt(spp), 1.0 / kEpsilon);
    const double inv_t = fmin(1.0 / sqrt(stt), 1.0 / kEpsilon);
    const bool p_scaled = 1.0 / sqrt(spp) < 1.0 / kEpsilon;
    total += sign * spt * inv_p * inv_t;
    if (grad)
      for (int64_t j = lane; j < c; j += 32) {
        double g = t[j] * inv_p;
        if (p_scaled) g -= spt * p[j] * inv_p * inv_p * inv_p;
        grad[r * c + j] = static_cast<float>(scale * sign * inv_t * g);
      }
  }
  if (lane == 0) per_sample[i] = static_cast<float>(total / static_cast<double>(rows_per_sample));
}

__global__ void categorical_hinge_kernel(const float* __restrict__ pred,
                                         const float* __restrict__ target,
                                         const float* __restrict__ coef, float* per_sample,
                                         float* __restrict__ grad, int64_t n,
                                         int64_t rows_per_sample, int64_t c) {
  const int64_t i = warp_index();
  const int lane = threadIdx.x % 32;
  if (i >= n) return;
  const float scale = coef[i] / static_cast<float>(rows_per_sample);
  double total = 0.0;
  for (int64_t rr = 0; rr < rows_per_sample; ++rr) {
    const int64_t r = i * rows_per_sample + rr;
    const float *p = pred + r * c, *t = target + r * c;
    double pos = 0.0;
    float neg = -INFINITY;
    for (int64_t j = lane; j < c; j += 32) {
      pos += static_cast<double>(t[j]) * p[j];
      neg = fmaxf(neg, (1.0f - t[j]) * p[j]);
    }
    pos = warp_sum(pos);
    neg = warp_max(neg);
    float ties = 0.0f;  // the max's gradient is shared among the entries that reach it (TF's rule)
    for (int64_t j = lane; j < c; j += 32) ties += ((1.0f - t[j]) * p[j] == neg) ? 1.0f : 0.0f;
    ties = warp_sum(ties);
    const float v = neg - static_cast<float>(pos) + 1.0f;
    total += fmaxf(v, 0.0f);
    if (grad)
      for (int64_t j = lane; j < c; j += 32) {
        const float at_max = ((1.0f - t[j]) * p[j] == neg) ? (1.0f - t[j]) / ties : 0.0f;
        grad[r * c + j] = v > 0.0f ? scale * (at_max - t[j]) : 0.0f;
      }
  }
  if (lane == 0) per_sample[i] = static_cast<float>(total / static_cast<double>(rows_per_sample));
}

__global__ void bce_kernel(const float* __restrict__ pred, const float* __restrict__ target,
                           const float* __restrict__ coef, float* per_sample,
                           float* __restrict__ grad, int64_t n, int64_t d, bool use_logits,
                           float smoothing) {
  const int64_t i = warp_index();
  const int lane = threadIdx.x % 32;
  if (i >= n) return;
  const float *p = pred + i * d, *t = target + i * d;
  const float scale = grad ? coef[i] / static_cast<float>(d) : 0.0f;
  double acc = 0.0;
  for (int64_t j = lane; j < d; j += 32) {
    const float y = t[j] * (1.0f - smoothing) + 0.5f * smoothing;
    float g;
    if (use_logits) {
      const float z = p[j];
      acc += fmaxf(z, 0.0f) - z * y + log1pf(expf(-fabsf(z)));
      const float s = z >= 0 ? 1.0f / (1.0f + expf(-z)) : expf(z) / (1.0f + expf(z));
      g = scale * (s - y);
    } else {
      const float q = clampf(p[j], kEpsilon, 1.0f - kEpsilon);
      acc += -(y * logf(q) + (1.0f - y) * logf(1.0f - q));
      const bool clipped = p[j] < kEpsilon || p[j] > 1.0f - kEpsilon;
      g = clipped ? 0.0f : scale * (-y / q + (1.0f - y) / (1.0f - q));
    }
    if (grad) grad[i * d + j] = g;
  }
  acc = warp_sum(acc);
  if (lane == 0) per_sample[i] = static_cast<float>(acc / static_cast<double>(d));
}

__device__ __forceinline__ float cce_target(const float* t, int64_t j, int64_t c, bool sparse,
                                            float smoothing) {
  const float y = sparse ? (static_cast<int64_t>(t[0]) == j ? 1.0f : 0.0f) : t[j];
  return y * (1.0f - smoothing) + smoothing / static_cast<float>(c);
}

__global__ void cce_kernel(const float* __restrict__ pred, const float* __restrict__ target,
                           const float* __restrict__ coef, float* per_sample,
                           float* __restrict__ grad, int64_t n, int64_t rows_per_sample, int64_t c,
                           bool sparse, bool use_logits, float smoothing) {
  const int64_t i = warp_index();
  const int lane = threadIdx.x % 32;
  if (i >= n) return;
  const float scale = coef[i] / static_cast<float>(rows_per_sample);
  double total = 0.0;
  for (int64_t rr = 0; rr < rows_per_sample; ++rr) {
    const int64_t r = i * rows_per_sample + rr;
    const float* p = pred + r * c;
    const float* t = target + (sparse ? r : r * c);
    float* g = grad ? grad + r * c : nullptr;
    double loss = 0.0;
    if (use_logits) {
      float mx = -INFINITY;
      for (int64_t j = lane; j < c; j += 32) mx = fmaxf(mx, p[j]);
      mx = warp_max(mx);
      double se = 0.0;
      for (int64_t j = lane; j < c; j += 32) se += exp(static_cast<double>(p[j] - mx));
      se = warp_sum(se);
      const double lse = log(se) + mx;
      double ysum = 0.0;
      for (int64_t j = lane; j < c; j += 32) {
        const float y = cce_target(t, j, c, sparse, smoothing);
        ysum += y;
        if (y != 0.0f) loss -= y * (p[j] - lse);
      }
      ysum = warp_sum(ysum);
      if (g)
        for (int64_t j = lane; j < c; j += 32)
          g[j] = scale * static_cast<float>(exp(p[j] - lse) * ysum -
                                            cce_target(t, j, c, sparse, smoothing));
    } else if (sparse) {  // clip, then normalize (see CategoricalCrossentropy::row)
      double s = 0.0;
      for (int64_t j = lane; j < c; j += 32) s += clampf(p[j], kEpsilon, 1.0f - kEpsilon);
      s = warp_sum(s);
      const double log_s = log(s);
      double ysum = 0.0;
      for (int64_t j = lane; j < c; j += 32) {
        const float y = cce_target(t, j, c, sparse, smoothing);
        ysum += y;
        if (y != 0.0f) loss -= y * (logf(clampf(p[j], kEpsilon, 1.0f - kEpsilon)) - log_s);
      }
      ysum = warp_sum(ysum);
      if (g)
        for (int64_t j = lane; j < c; j += 32) {
          const float cj = clampf(p[j], kEpsilon, 1.0f - kEpsilon);
          g[j] = p[j] == cj ? scale * static_cast<float>(ysum / s -
                                                         cce_target(t, j, c, sparse, smoothing) / cj)
                            : 0.0f;
        }
    } else {  // one-hot targets: normalize, then clip
      double s = 0.0;
      for (int64_t j = lane; j < c; j += 32) s += p[j];
      s = warp_sum(s);
      const float inv_s = static_cast<float>(1.0 / s);
      double weighted = 0.0;
      for (int64_t j = lane; j < c; j += 32) {
        const float q = p[j] * inv_s, qc = clampf(q, kEpsilon, 1.0f - kEpsilon);
        const float y = cce_target(t, j, c, sparse, smoothing);
        loss -= y * logf(qc);
        if (q == qc) weighted += y;
      }
      weighted = warp_sum(weighted);
      if (g)
        for (int64_t j = lane; j < c; j += 32) {
          const float q = p[j] * inv_s, qc = clampf(q, kEpsilon, 1.0f - kEpsilon);
          const float y = cce_target(t, j, c, sparse, smoothing);
          const float direct = (q == qc) ? -y / q : 0.0f;
          g[j] = scale * inv_s * (direct + static_cast<float>(weighted));
        }
    }
    total += warp_sum(loss);
  }
  if (lane == 0) per_sample[i] = static_cast<float>(total / static_cast<double>(rows_per_sample));
}

__device__ int64_t argmax_row(const float* x, int64_t n) {
  int64_t best = 0;
  for (int64_t j = 1; j < n; ++j)
    if (x[j] > x[best]) best = j;
  return best;
}

__global__ void binary_accuracy_kernel(const float* __restrict__ pred,
                                       const float* __restrict__ target, float* out, int64_t n,
                                       int64_t d, float threshold) {
  KS_GRID_STRIDE(i, n) {
    int64_t hits = 0;
    for (int64_t j = 0; j < d; ++j)
      hits += ((pred[i * d + j] > threshold ? 1.0f : 0.0f) == target[i * d + j]);
    out[i] = static_cast<float>(hits) / static_cast<float>(d);
  }
}

__global__ void top_k_kernel(const float* __restrict__ pred, const float* __restrict__ target,
                             float* out, int64_t n, int64_t d, int64_t c, bool sparse, int64_t k,
                             bool by_argmax) {
  KS_GRID_STRIDE(i, n) {
    const int64_t rows = d / c, t_stride = sparse ? 1 : c;
    const float* p = pred + i * d;
    const float* t = target + i * (sparse ? rows : d);
    double acc = 0.0;
    for (int64_t r = 0; r < rows; ++r) {
      const float *pr = p + r * c, *tr = t + r * t_stride;
      const int64_t label = sparse ? static_cast<int64_t>(tr[0]) : argmax_row(tr, c);
      float hit = 0.0f;
      if (label >= 0 && label < c) {
        if (by_argmax) {
          hit = argmax_row(pr, c) == label ? 1.0f : 0.0f;
        } else {
          int64_t greater = 0;
          for (int64_t j = 0; j < c; ++j) greater += pr[j] > pr[label];
          hit = greater < k ? 1.0f : 0.0f;
        }
      }
      acc += hit;
    }
    out[i] = static_cast<float>(acc / static_cast<double>(rows));
  }
}

__global__ void error_metric_kernel(const float* __restrict__ pred, const float* __restrict__ target,
                                    float* out, int64_t n, int64_t d, bool squared) {
  KS_GRID_STRIDE(i, n) {
    double acc = 0.0;
    for (int64_t j = 0; j < d; ++j) {
      const double e = static_cast<double>(pred[i * d + j]) - target[i * d + j];
      acc += squared ? e * e : fabs(e);
    }
    out[i] = static_cast<float>(acc / static_cast<double>(d));
  }
}

}  // namespace

void elementwise_loss(ElementwiseLoss kind, float param, const float* flag, const float* pred,
                      const float* target, const float* coef, float* per_sample, float* grad,
                      int64_t n, int64_t d, int64_t div) {
  if (n <= 0) return;
  visit_elementwise_loss(kind, [&](auto k) {
    elementwise_loss_kernel<decltype(k)::value><<<grid_for(n * 32), kThreads>>>(
        param, flag, pred, target, coef, per_sample, grad, n, d, div);
  });
  check_launch("elementwise_loss");
}

void binary_labels_flag(const float* target, int64_t count, float* flag) {
  set_one_kernel<<<1, 1>>>(flag);
  if (count > 0) binary_labels_kernel<<<grid_for(count), kThreads>>>(target, count, flag);
  check_launch("binary_labels_flag");
}

void cosine_similarity(const float* pred, const float* target, const float* coef,
                       float* per_sample, float* grad, int64_t n, int64_t rows_per_sample,
                       int64_t c, float sign) {
  if (n <= 0) return;
  cosine_kernel<<<grid_for(n * 32), kThreads>>>(pred, target, coef, per_sample, grad, n,
                                                rows_per_sample, c, sign);
  check_launch("cosine_similarity");
}

void categorical_hinge(const float* pred, const float* target, const float* coef,
                       float* per_sample, float* grad, int64_t n, int64_t rows_per_sample,
                       int64_t c) {
  if (n <= 0) return;
  categorical_hinge_kernel<<<grid_for(n * 32), kThreads>>>(pred, target, coef, per_sample, grad,
                                                           n, rows_per_sample, c);
  check_launch("categorical_hinge");
}

void binary_crossentropy(const float* pred, const float* target, const float* coef,
                         float* per_sample, float* grad, int64_t n, int64_t d, bool use_logits,
                         float smoothing) {
  if (n <= 0) return;
  bce_kernel<<<grid_for(n * 32), kThreads>>>(pred, target, coef, per_sample, grad, n, d,
                                             use_logits, smoothing);
  check_launch("binary_crossentropy");
}

void categorical_crossentropy(const float* pred, const float* target, const float* coef,
                              float* per_sample, float* grad, int64_t n, int64_t rows_per_sample,
                              int64_t c, bool sparse, bool use_logits, float smoothing) {
  if (n <= 0) return;
  cce_kernel<<<grid_for(n * 32), kThreads>>>(pred, target, coef, per_sample, grad, n,
                                             rows_per_sample, c, sparse, use_logits, smoothing);
  check_launch("categorical_crossentropy");
}

void binary_accuracy(const float* pred, const float* target, float* out, int64_t n, int64_t d,
                     float threshold) {
  if (n <= 0) return;
  binary_accuracy_kernel<<<grid_for(n), kThreads>>>(pred, target, out, n, d, threshold);
  check_launch("binary_accuracy");
}

void top_k_accuracy(const float* pred, const float* target, float* out, int64_t n, int64_t d,
                    int64_t c, bool sparse, int64_t k, bool by_argmax) {
  if (n <= 0) return;
  top_k_kernel<<<grid_for(n), kThreads>>>(pred, target, out, n, d, c, sparse, k, by_argmax);
  check_launch("top_k_accuracy");
}

void error_metric(const float* pred, const float* target, float* out, int64_t n, int64_t d,
                  bool squared) {
  if (n <= 0) return;
  error_metric_kernel<<<grid_for(n), kThreads>>>(pred, target, out, n, d, squared);
  check_launch("error_metric");
}

}  // namespace kerasette::cuda

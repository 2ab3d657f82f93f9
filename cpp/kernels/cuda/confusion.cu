// Confusion counts for Precision, Recall and AUC on the GPU: the rules of nn/confusion_metrics.cpp.
// One thread per prediction; each warp sums its counts with a fixed butterfly and adds them with
// one atomic. Every count is a whole number, so the atomics are exact and their order is free.
// Weighted counts are not, so they take no atomics: a row's weighted counts are written out (and
// summed by weighted_sum_into), and each AUC bucket is one block's fixed-order reduction.
#include "kernels/cuda/device_common.cuh"

namespace kerasette::cuda {

namespace {

// TensorFlow's top_k order: higher values first, ties to the lower index. NaN ranks last.
__device__ __forceinline__ bool ranks_before(const float* p, int64_t a, int64_t b) {
  const float ka = isnan(p[a]) ? -INFINITY : p[a], kb = isnan(p[b]) ? -INFINITY : p[b];
  return ka > kb || (ka == kb && a < b);
}

__device__ __forceinline__ void add_warp_counts(double* dst, double v) {
  v = warp_sum(v);
  if ((threadIdx.x & 31) == 0 && v != 0.0) atomicAdd(dst, v);
}

// Whether class j of the row p counts as predicted: above the threshold and, with top_k > 0,
// among the row's top_k values.
__device__ __forceinline__ bool predicted_positive(const float* p, int64_t c, int64_t j,
                                                   float threshold, int64_t top_k) {
  if (top_k > 0) {
    int64_t rank = 0;
    for (int64_t i = 0; i < c; ++i) rank += ranks_before(p, i, j);
    if (rank >= top_k) return false;
  }
  return p[j] > threshold;
}

__global__ void confusion_kernel(const float* __restrict__ pred, const float* __restrict__ target,
                                 int64_t rows, int64_t c, float threshold, int64_t top_k,
                                 int64_t class_id, double* sums) {
  const int64_t per_row = class_id >= 0 ? 1 : c;
  double tp = 0.0, fp = 0.0, fn = 0.0;
  KS_GRID_STRIDE(e, rows * per_row) {
    const int64_t r = e / per_row, j = class_id >= 0 ? class_id : e % per_row;
    const bool pos = predicted_positive(pred + r * c, c, j, threshold, top_k);
    const bool label = target[r * c + j] != 0.0f;
    tp += (pos && label) ? 1.0 : 0.0;
    fp += (pos && !label) ? 1.0 : 0.0;
    fn += (!pos && label) ? 1.0 : 0.0;
  }
  add_warp_counts(sums, tp);
  add_warp_counts(sums + 1, fp);
  add_warp_counts(sums + 2, fn);
}

__device__ __forceinline__ int64_t auc_bucket(float p, int64_t T, const float* thresholds,
                                              bool from_logits) {
  if (from_logits) p = p >= 0.0f ? 1.0f / (1.0f + expf(-p)) : expf(p) / (1.0f + expf(p));
  if (isnan(p)) return -1;
  if (!thresholds) {  // Keras's float32 product, not contracted with anything
    const float scaled = __fmul_rn(fminf(fmaxf(p, 0.0f), 1.0f), static_cast<float>(T - 1));
    const int64_t b = static_cast<int64_t>(ceilf(scaled)) - 1;
    return b > 0 ? b : 0;
  }
  int64_t lo = 0, hi = T;  // the number of thresholds below p
  while (lo < hi) {
    const int64_t mid = (lo + hi) / 2;
    if (thresholds[mid] < p)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo - 1;
}

__global__ void auc_kernel(const float* __restrict__ pred, const float* __restrict__ target,
                           int64_t n, int64_t T, const float* __restrict__ thresholds,
                           bool from_logits, double* sums) {
  double positives = 0.0, negatives = 0.0;
  KS_GRID_STRIDE(i, n) {
    const bool label = target[i] != 0.0f;
    positives += label ? 1.0 : 0.0;
    negatives += label ? 0.0 : 1.0;
    const int64_t b = auc_bucket(pred[i], T, thresholds, from_logits);
    if (b >= 0) atomicAdd(sums + (label ? 0 : T) + b, 1.0);
  }
  add_warp_counts(sums + 2 * T, positives);
  add_warp_counts(sums + 2 * T + 1, negatives);
}

__global__ void weighted_confusion_kernel(const float* __restrict__ pred,
                                          const float* __restrict__ target,
                                          const float* __restrict__ weight, int64_t rows,
                                          int64_t rows_per_sample, int64_t c, float threshold,
                                          int64_t top_k, int64_t class_id, float* out) {
  KS_GRID_STRIDE(r, rows) {
    const float* p = pred + r * c;
    const int64_t lo = class_id >= 0 ? class_id : 0, hi = class_id >= 0 ? class_id + 1 : c;
    int64_t tp = 0, fp = 0, fn = 0;
    for (int64_t j = lo; j < hi; ++j) {
      const bool pos = predicted_positive(p, c, j, threshold, top_k);
      const bool label = target[r * c + j] != 0.0f;
      tp += pos && label;
      fp += pos && !label;
      fn += !pos && label;
    }
    const float w = weight[r / rows_per_sample];  // the CPU's float product
    out[r] = __fmul_rn(static_cast<float>(tp), w);
    out[rows + r] = __fmul_rn(static_cast<float>(fp), w);
    out[2 * rows + r] = __fmul_rn(static_cast<float>(fn), w);
  }
}

constexpr int kBucketThreads = 256;

// Block k sums the weights of the predictions that land in slot k of the AUC sums (bucket k's
// positives, bucket k - T's negatives, then all positives and all negatives): thread t takes
// predictions t, t + 256, ... in order, then a shared tree of fixed shape; one writer per slot.
__global__ void weighted_auc_kernel(const float* __restrict__ pred,
                                    const float* __restrict__ target,
                                    const float* __restrict__ weight, int64_t n,
                                    int64_t per_sample, int64_t T,
                                    const float* __restrict__ thresholds, bool from_logits,
                                    double* sums) {
  const int64_t k = blockIdx.x;
  double s = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += kBucketThreads) {
    const bool label = target[i] != 0.0f;
    bool hit;
    if (k >= 2 * T)
      hit = label == (k == 2 * T);
    else
      hit = label == (k < T) && auc_bucket(pred[i], T, thresholds, from_logits) == k % T;
    if (hit) s += static_cast<double>(weight[i / per_sample]);
  }
  __shared__ double buf[kBucketThreads];
  buf[threadIdx.x] = s;
  __syncthreads();
  for (int w = kBucketThreads / 2; w > 0; w >>= 1) {
    if (threadIdx.x < w) buf[threadIdx.x] += buf[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) sums[k] += buf[0];
}

}  // namespace

void weighted_confusion_rows(const float* pred, const float* target, const float* weight,
                             int64_t rows, int64_t rows_per_sample, int64_t c, float threshold,
                             int64_t top_k, int64_t class_id, float* out) {
  if (rows <= 0) return;
  weighted_confusion_kernel<<<grid_for(rows), kThreads>>>(
      pred, target, weight, rows, rows_per_sample, c, threshold, top_k, class_id, out);
  check_launch("weighted_confusion_rows");
}

void weighted_auc_buckets(const float* pred, const float* target, const float* weight, int64_t n,
                          int64_t per_sample, int64_t T, const float* thresholds,
                          bool from_logits, double* sums) {
  if (n <= 0) return;
  weighted_auc_kernel<<<static_cast<unsigned>(2 * T + 2), kBucketThreads>>>(
      pred, target, weight, n, per_sample, T, thresholds, from_logits, sums);
  check_launch("weighted_auc_buckets");
}

void confusion_counts(const float* pred, const float* target, int64_t rows, int64_t c,
                      float threshold, int64_t top_k, int64_t class_id, double* sums) {
  const int64_t total = rows * (class_id >= 0 ? 1 : c);
  if (total <= 0) return;
  confusion_kernel<<<grid_for(total), kThreads>>>(pred, target, rows, c, threshold, top_k, class_id,
                                                  sums);
  check_launch("confusion_counts");
}

void auc_buckets(const float* pred, const float* target, int64_t n, int64_t T,
                 const float* thresholds, bool from_logits, double* sums) {
  if (n <= 0) return;
  auc_kernel<<<grid_for(n), kThreads>>>(pred, target, n, T, thresholds, from_logits, sums);
  check_launch("auc_buckets");
}

}  // namespace kerasette::cuda

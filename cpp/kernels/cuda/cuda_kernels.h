// The contract of the CUDA kernels, in plain C++ (no CUDA types), so that engine .cpp files can
// call them. Compiled only with -DKERASETTE_CUDA=ON; every caller sits behind KERASETTE_WITH_CUDA.
//
// Rules, as for the CPU kernels (kernels/cpu/kernels.h): device pointers and sizes in, no shape
// checks (the op above checks). Every launcher is asynchronous on the engine's one stream (the
// legacy default stream), so work is ordered like the CPU's program order; the few functions that
// return a host value (sum_squares, ...) synchronize and say so. A launch error throws
// std::runtime_error ("CUDA error in <kernel>: <reason>").
//
// Formulas mirror the CPU kernels operation by operation; results differ from the CPU only by
// float rounding (libdevice's expf/tanhf/erff instead of the CPU's polynomials, FMA contraction,
// other summation trees), except dropout masks, which are bit-identical (same Philox counters), and
// normal noise, identical but for a rare last bit (core/philox.h's philox_normal_pair).
// Reductions use fixed trees that depend only on the sizes: the same inputs give the same bits.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/cpu/kernels.h"  // Act
#include "kernels/loss_elements.h"
#include "kernels/relu_layer.h"

namespace kerasette::cuda {

// ---- GEMM ----
// C[M x N] (row stride ldc) = op(A) op(B) (+ C when accumulate); then, when accumulate is false,
// C = act(C + bias[j]) (bias may be null; act is never Softmax). Operands as in ops/gemm.h:
// op(A) is A (M x K, lda) or, when trans_a, A^T with A stored K x M; likewise B.
// FP32 on the CUDA cores by default; TF32 tensor cores (about 10 mantissa bits per product) only
// when set_gemm_tf32(true) or the environment variable KERASETTE_CUDA_TF32=1 is set at start.
// A long K under few output tiles is summed in fixed chunks (gemm.cu): same bits on every run.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
          const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate, const float* bias,
          Act act, float alpha);
void set_gemm_tf32(bool on);
bool gemm_tf32();

// ---- elementwise ----
void fill(float* x, int64_t n, float value);
void scale(float* x, int64_t n, float a);                 // x *= a
void clip(float* x, int64_t n, float lo, float hi);       // x = min(max(x, lo), hi)
void axpy(int64_t n, float a, const float* x, float* y);  // y = a x + y
void mul(const float* a, const float* b, float* out, int64_t n);
void act_forward(Act act, float alpha, const float* x, float* y, int64_t n);
void act_backward(Act act, float alpha, const float* x, const float* y, const float* dy, float* dx,
                  int64_t n);
void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols);
void softmax_rows_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols);
void add_bias_rows(float* y, const float* bias, int64_t rows, int64_t cols);
// out[c] (+)= sum over rows of x[r, c]: a fixed tree (16 row groups, each in row order, then
// combined in group order; from 4,096 rows on, that per chunk of 1,024 rows, the chunks then added
// in order), so the bits depend only on the data and the sizes.
void sum_rows(const float* x, float* out, int64_t rows, int64_t cols, bool accumulate);
// Keras's ReLU layer (max_value, negative_slope, threshold), forward and backward.
void relu_layer_forward(const float* x, float* y, int64_t n, const ReluLayerKinks& k);
void relu_layer_backward(const float* x, const float* dy, float* dx, int64_t n,
                         const ReluLayerKinks& k);
// Inverted dropout: mask[i] = (uniform(philox(seed, stream, i / 4)[i % 4]) >= rate) ? scale : 0,
// y = x * mask: the CPU DropoutLayer's masks, bit for bit. x and y null: the mask alone (the CPU
// SpatialDropout's per-channel mask, drawn by rng_fill_uniform on [0, 1), is this mask too).
void dropout_forward(const float* x, float* y, float* mask, int64_t n, float rate, float scale,
                     uint64_t seed, uint64_t stream);
// out[i] = mean + stddev * z_i, z_i element i of the CPU's rng_fill_normal(seed, stream): the
// same floats but where libdevice's log or cos rounds a double otherwise than glibc's, which can
// move a float by one ulp (rare: the double must lie within a few ulp of a float rounding tie).
void normal_fill(float* out, int64_t n, float mean, float stddev, uint64_t seed, uint64_t stream);
// y[s, t, c] = x[s, t, c] * m[s, c] over samples x steps x channels (SpatialDropout).
void mul_channels(const float* x, const float* m, float* y, int64_t samples, int64_t steps,
                  int64_t channels);

// ---- merge layers (merge.cu): k <= kMaxMergeInputs inputs of n floats each ----
constexpr int kMaxMergeInputs = 16;
enum class MergeKind : int { Add = 0, Subtract, Multiply, Average, Maximum, Minimum };
// out = inputs[0] op inputs[1] op ... (left to right; Average divides the sum by k).
void merge_forward(MergeKind op, const float* const* inputs, int k, float* out, int64_t n);
// dx = the gradient for input j (overwritten): dy, dy / k, -dy for Subtract's second input, dy
// times the other inputs in order for Multiply, dy where input j is the first holding out's value
// for Maximum / Minimum (else 0).
void merge_backward(MergeKind op, const float* const* inputs, int k, int j, const float* out,
                    const float* dy, float* dx, int64_t n);

// ---- layout layers (layout.cu): NHWC images, batch x H x W x C ----
// dst[n, y, x, c] = src[n, y - top, x - left, c], 0 outside src (DH x DW from SH x SW): a
// ZeroPadding (top, left >= 0) or Cropping (< 0) forward pass, and with negated offsets its
// gradient.
void shift_window(const float* src, int64_t SH, int64_t SW, float* dst, int64_t batch, int64_t DH,
                  int64_t DW, int64_t C, int64_t top, int64_t left);
// y[n, oy, ox, c] = x[n, oy / sh, ox / sw, c]; the gradient sums each sh x sw block in (a, b) order.
void upsample_nearest(const float* x, float* y, int64_t batch, int64_t H, int64_t W, int64_t C,
                      int64_t sh, int64_t sw);
void upsample_nearest_backward(const float* dy, float* dx, int64_t batch, int64_t H, int64_t W,
                               int64_t C, int64_t sh, int64_t sw);
// ---- Rescaling and Embedding (embedding.cu) ----
// y[i] = x[i] * scale[i % k] (+ offset[i % k] when offset is not null): k is 1 or the last axis.
void scale_offset(const float* x, float* y, int64_t n, const float* scale, const float* offset,
                  int64_t k);
// out[r, :] = table[int(idx[r]), :] for r < rows; indices were validated on the host.
void embedding_gather(const float* idx, const float* table, float* out, int64_t rows, int64_t dim);
// The table gradient, grouped on the host by row (a stable counting sort): for the u-th touched
// row, grad[row_ids[u], c] += sum of dy[positions[p], c] for p in [offsets[u], offsets[u + 1]),
// in p order: one thread per (touched row, column), so the bits do not depend on the launch.
// Untouched rows are left as they are (the caller zeroes the table gradient first when needed).
void embedding_scatter_add(const float* dy, const int32_t* row_ids, const int32_t* offsets,
                           const int32_t* positions, float* grad, int64_t touched, int64_t dim);
// Per sample of in_shape[rank] (rank <= kMaxPermuteRank): dst axis k reads src axis dims[k]; with
// inverse, src is in the permuted layout and dst in in_shape's (the gradient).
constexpr int kMaxPermuteRank = 8;
void permute(const float* src, float* dst, int64_t batch, const int64_t* in_shape,
             const int64_t* dims, int rank, bool inverse);
// out[i] = sum_j a[i, j] b[i, j] (in double, in j order); y[i, j] = s[i] x[i, j].
void dot_rows(const float* a, const float* b, float* out, int64_t n, int64_t d);
void scale_rows(const float* s, const float* x, float* y, int64_t n, int64_t d);

// ---- batch normalization over the last axis of x[rows, C] (normalization.cu) ----
// Per-channel sums in double over fixed chunks of rows, added in chunk order (the CPU's scheme).
// Batch statistics (biased variance): mean, inv_std = 1 / sqrt(var + eps); and
// moving = moving * momentum + batch * (1 - momentum).
void batch_norm_stats(const float* x, int64_t rows, int64_t C, float momentum, float eps,
                      float* mean, float* inv_std, float* moving_mean, float* moving_var);
// Inference statistics: mean = moving_mean, inv_std = 1 / sqrt(moving_var + eps).
void batch_norm_moving(const float* moving_mean, const float* moving_var, int64_t C, float eps,
                       float* mean, float* inv_std);
// y = x * a + b with a = inv_std * gamma, b = beta - mean * a (gamma, beta may be null: 1 and 0).
void batch_norm_apply(const float* x, const float* mean, const float* inv_std, const float* gamma,
                      const float* beta, float* y, int64_t rows, int64_t C);
// dgamma (+)= sum dy * xhat, dbeta (+)= sum dy (either may be null); dx (may be null) =
// inv_std * gamma * (dy - mean(dy) - xhat * mean(dy * xhat)) with batch statistics, else
// inv_std * gamma * dy.
void batch_norm_backward(const float* x, const float* dy, const float* mean, const float* inv_std,
                         const float* gamma, int64_t rows, int64_t C, bool batch_stats,
                         float* dgamma, float* dbeta, bool accumulate, float* dx);

// ---- layer normalization over rows of K values (normalization.cu; kernels/layer_norm_row.h) ----
// Per row, sums in double: mean, inv_std = 1 / sqrt(biased var + eps), y = xhat * gamma + beta
// (gamma, beta may be null: 1 and 0).
void layer_norm_forward(const float* x, const float* gamma, const float* beta, int64_t rows,
                        int64_t K, float eps, float* y, float* mean, float* inv_std);
// dgamma (+)= sum over rows of dy * xhat, dbeta (+)= sum dy (either may be null; the BatchNorm
// column tree); dx (may be null) = inv_std * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma.
void layer_norm_backward(const float* x, const float* dy, const float* mean, const float* inv_std,
                         const float* gamma, int64_t rows, int64_t K, float* dgamma, float* dbeta,
                         bool accumulate, float* dx);

// ---- Normalization, the preprocessing layer (normalization.cu) ----
// Per value j = i % k, s = max(sqrt(var[j]), eps): y = (x - mean[j]) * (1 / s), or with invert
// y = x * s + mean[j]; backward y = x * (1 / s), or x * s. The CPU layer's float operations, with
// no fused multiply-add, so both give the same bits.
void normalization_apply(const float* x, float* y, int64_t n, const float* mean, const float* var,
                         int64_t k, float eps, bool invert, bool backward);

// ---- reductions into device accumulators (double, so epoch sums keep their precision) ----
// acc[0] += scale * sum_i x[i] (* w[i] when w is not null); one block, fixed tree.
void weighted_sum_into(const float* x, const float* w, int64_t n, double scale, double* acc);
// acc[0] += scale * sum(l1 |w| + l2 w^2); g (if not null) += l1 sign(w) + 2 l2 w.
void penalty_into(const float* w, float* g, int64_t n, float l1, float l2, double scale,
                  double* acc);
// coef[i] = base * (w ? w[i] : 1)
void loss_coefficients(float* coef, const float* w, int64_t n, float base);
// Sum of x^2 in double (fixed tree); synchronizes to return it.
double sum_squares(const float* x, int64_t n);

// ---- losses: per_sample[N]; grad (may be null) = coef[i] * d loss_i / d pred ----
// The losses of kernels/loss_elements.h: per_sample[i] = (sum of the sample's d values) / div,
// div being d, or the number of rows for the losses Keras sums over the last axis. param is Huber's
// delta; the hinge losses read theirs from the device (flag, from binary_labels_flag).
void elementwise_loss(ElementwiseLoss kind, float param, const float* flag, const float* pred,
                      const float* target, const float* coef, float* per_sample, float* grad,
                      int64_t n, int64_t d, int64_t div);
// flag[0] = 1 when every one of the count target values is 0 or 1, else 0 (Keras's hinge rule).
void binary_labels_flag(const float* target, int64_t count, float* flag);
// sign * sum(l2_normalize(t) * l2_normalize(p)) per row of c values, averaged over the sample's
// rows: sign -1 is Keras's CosineSimilarity loss, +1 its metric.
void cosine_similarity(const float* pred, const float* target, const float* coef,
                       float* per_sample, float* grad, int64_t n, int64_t rows_per_sample,
                       int64_t c, float sign);
// max(max((1 - t) * p) - sum(t * p) + 1, 0) per row of c values, averaged over the rows.
void categorical_hinge(const float* pred, const float* target, const float* coef,
                       float* per_sample, float* grad, int64_t n, int64_t rows_per_sample,
                       int64_t c);
void binary_crossentropy(const float* pred, const float* target, const float* coef,
                         float* per_sample, float* grad, int64_t n, int64_t d, bool use_logits,
                         float smoothing);
// rows_per_sample rows of c classes per sample; sparse targets hold one label per row.
void categorical_crossentropy(const float* pred, const float* target, const float* coef,
                              float* per_sample, float* grad, int64_t n, int64_t rows_per_sample,
                              int64_t c, bool sparse, bool use_logits, float smoothing);

// ---- metrics, per sample ----
void binary_accuracy(const float* pred, const float* target, float* out, int64_t n, int64_t d,
                     float threshold);
// by_argmax: the first highest prediction must be the true class (categorical accuracy); else
// fewer than k predictions may exceed the true class's (in_top_k: ties count for it).
void top_k_accuracy(const float* pred, const float* target, float* out, int64_t n, int64_t d,
                    int64_t c, bool sparse, int64_t k, bool by_argmax);
void error_metric(const float* pred, const float* target, float* out, int64_t n, int64_t d,
                  bool squared);

// ---- confusion counts into device accumulators (confusion.cu; nn/confusion_metrics.cpp) ----
// The counts are whole numbers, so the double atomics that add them are exact and the sums have
// the same bits whatever order the blocks run in.
// sums[0..2] += true positives, false positives, false negatives over rows of c predictions:
// positive when > threshold and (top_k > 0) among the row's top_k (ties to the lower index);
// class_id >= 0: only that column counts. A target is positive when it is not 0.
void confusion_counts(const float* pred, const float* target, int64_t rows, int64_t c,
                      float threshold, int64_t top_k, int64_t class_id, double* sums);
// AUC over n predictions and T thresholds: sums[b] (positives) or sums[T + b] (negatives) += 1 for
// the prediction's bucket b, sums[2T] and sums[2T + 1] += the positives and negatives. thresholds
// null: evenly spaced, b = max(ceil(clip(p, 0, 1) (T - 1)) - 1, 0); else (device, sorted) b = the
// number of thresholds below p, minus 1 (no bucket when -1). from_logits: p = sigmoid(p) first.
void auc_buckets(const float* pred, const float* target, int64_t n, int64_t T,
                 const float* thresholds, bool from_logits, double* sums);

// Weighted Precision/Recall: out[k * rows + r] = (row r's tp, fp, fn for k = 0, 1, 2) *
// weight[r / rows_per_sample], in float; the caller sums each third with weighted_sum_into.
void weighted_confusion_rows(const float* pred, const float* target, const float* weight,
                             int64_t rows, int64_t rows_per_sample, int64_t c, float threshold,
                             int64_t top_k, int64_t class_id, float* out);
// Weighted AUC: as auc_buckets with weight[i / per_sample] added instead of 1; each of the 2T + 2
// sums is one block's fixed-order reduction (no atomics), so the sums are deterministic.
void weighted_auc_buckets(const float* pred, const float* target, const float* weight, int64_t n,
                          int64_t per_sample, int64_t T, const float* thresholds,
                          bool from_logits, double* sums);

// ---- convolution and pooling (conv.cu): NHWC ----
// One image's window geometry: input H x W x C, output OH x OW, kernel/pool KH x KW, strides,
// dilations (1 for pooling) and the padding before each axis (TensorFlow's rule, ops/conv2d.h).
struct ConvGeometry {
  int64_t H = 0, W = 0, C = 0, OH = 0, OW = 0, KH = 1, KW = 1;
  int64_t sh = 1, sw = 1, dh = 1, dw = 1, ph = 0, pw = 0;
  // im2col / col2im only: floats between neighbouring pixels of x (0: C). A group of a grouped
  // convolution is C channels of an image with more: x points at its first channel.
  int64_t x_stride = 0;
};
// col[batch * OH * OW, KH * KW * C] as ops/conv2d.h's im2col (padded cells 0).
void im2col(const ConvGeometry& g, int64_t batch, const float* x, float* col);
// dx = the adjoint of im2col (its C channels of each pixel overwritten, not accumulated); a gather
// in a fixed order.
void col2im(const ConvGeometry& g, int64_t batch, const float* col, float* dx);
// Max (with the winning offset within its image in arg, when arg is not null; strict > keeps the
// first maximum, as the CPU) or average pooling (divisor: the in-bounds cells of the window).
void pool_forward(const ConvGeometry& g, int64_t batch, bool is_max, const float* x, float* y,
                  int32_t* arg);
// dx (overwritten) from dy: through arg for max pooling, dy / count for average pooling.
void pool_backward(const ConvGeometry& g, int64_t batch, bool is_max, const float* dy,
                   const int32_t* arg, float* dx);
// Global pooling of x[N, P, C] over P: y[N, C] (arg: winning p * C + c, needed for max).
void global_pool_forward(int64_t N, int64_t P, int64_t C, bool is_max, const float* x, float* y,
                         int32_t* arg);
void global_pool_backward(int64_t N, int64_t P, int64_t C, bool is_max, const float* dy,
                          const int32_t* arg, float* dx);

// ---- optimizer updates, in place: the formulas of kernels/cpu/kernels.h ----
void sgd_update(float* w, const float* g, float* m, int64_t n, float lr, float momentum,
                bool nesterov);
void adam_update(float* w, const float* g, float* m, float* v, float* vhat, int64_t n, float alpha,
                 float b1, float b2, float eps);
void rmsprop_update(float* w, const float* g, float* v, float* mg, float* mom, int64_t n, float lr,
                    float rho, float momentum, float eps);
void adagrad_update(float* w, const float* g, float* acc, int64_t n, float lr, float eps);
void adadelta_update(float* w, const float* g, float* ag, float* ad, int64_t n, float lr, float rho,
                     float eps);
void nadam_update(float* w, const float* g, float* m, float* v, int64_t n, float lr, float b1,
                  float b2, float c_m, float c_g, float c_v, float eps);
void adamax_update(float* w, const float* g, float* m, float* u, int64_t n, float lr, float b1,
                   float b2, float c1, float eps);
void lion_update(float* w, const float* g, float* m, int64_t n, float lr, float b1, float b2);
void ftrl_update(float* w, const float* g, float* acc, float* lin, int64_t n, float lr,
                 float lr_power, float l1, float two_l2, float shrink2);

}  // namespace kerasette::cuda

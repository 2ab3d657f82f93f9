// The mean metrics: a per-sample value whose mean over the epoch is reported (accuracies, errors,
// cross-entropies), and the root mean squared error, which reports the square root of that mean.
#include "nn/metrics.h"

#include <cmath>
#include <utility>

#include "core/parallel.h"
#include "nn/losses.h"
#include "ops/device_ops.h"
#ifdef KERASETTE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#define KS_METRIC_ON_CUDA(pred, call) \
  if ((pred).device() == Device::CUDA) return (void)(call)
#else
#define KS_METRIC_ON_CUDA(pred, call) \
  if ((pred).device() == Device::CUDA) no_cuda_build("metric")
#endif

namespace kerasette {

void Metric::check_target(const Shape& p, const Shape& t) const {
  KS_CHECK(shape_numel(p) == shape_numel(t), "Target and output shapes do not match: targets of "
           "per-sample shape ", shape_str(t), ", output of per-sample shape ", shape_str(p));
}

const float* MeanMetric::ones(int64_t n, Device device) {
  if (ones_.numel() != n || ones_.device() != device) {
    ones_.resize({n}, device);
    ones_.fill(1.0f);
  }
  return ones_.data();
}

void MeanMetric::accumulate(const Tensor& pred, const Tensor* logits, Act act, const Tensor& target,
                            const float* weight, double* sums) {
  const int64_t n = pred.dim(0);
  per_sample_.resize({n}, pred.device());
  compute(pred, logits, act, target, per_sample_.data());
  if (pred.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
    cuda::weighted_sum_into(per_sample_.data(), weight, n, 1.0, sums);
    if (weighted)  // sum(w), or n read as a sum of ones (exact)
      cuda::weighted_sum_into(weight ? weight : ones(n, Device::CUDA), nullptr, n, 1.0, sums + 1);
    return;
#else
    no_cuda_build("metric");
#endif
  }
  // In sample order, then added to the epoch sums: the same bits for any number of threads.
  double s = 0.0, w_sum = 0.0;
  const float* v = per_sample_.data();
  for (int64_t i = 0; i < n; ++i) {
    s += weight ? static_cast<double>(v[i]) * weight[i] : v[i];
    w_sum += weight ? weight[i] : 1.0;
  }
  sums[0] += s;
  if (weighted) sums[1] += w_sum;
}

double MeanMetric::result(const double* sums, double count) const {
  if (!weighted) return Metric::result(sums, count);
  return sums[1] != 0.0 ? sums[0] / sums[1] : 0.0;
}

namespace {

template <typename Fn>
void per_sample(const Tensor& pred, const Tensor& target, float* out, Fn&& fn) {
  const int64_t n = pred.dim(0);
  const int64_t d = n ? pred.numel() / n : 0, td = n ? target.numel() / n : 0;
  for (int64_t i = 0; i < n; ++i) out[i] = fn(pred.data() + i * d, target.data() + i * td, d, td);
}

int64_t argmax(const float* x, int64_t n) {
  int64_t best = 0;
  for (int64_t j = 1; j < n; ++j)
    if (x[j] > x[best]) best = j;
  return best;
}

// Rows of the last axis: a sample of shape (..., C) holds d / C rows; the value is their mean.
template <typename RowFn>
float mean_over_rows(const float* p, const float* t, int64_t d, int64_t c, int64_t t_stride,
                     RowFn&& fn) {
  const int64_t rows = d / c;
  double acc = 0.0;
  for (int64_t r = 0; r < rows; ++r) acc += fn(p + r * c, t + r * t_stride);
  return static_cast<float>(acc / static_cast<double>(rows));
}

class BinaryAccuracy : public MeanMetric {
 public:
  explicit BinaryAccuracy(float threshold) : threshold_(threshold) {}
  void compute(const Tensor& pred, const Tensor*, Act, const Tensor& target, float* out) override {
    const int64_t n = pred.dim(0);
    KS_METRIC_ON_CUDA(pred, cuda::binary_accuracy(pred.data(), target.data(), out, n,
                                                  n ? pred.numel() / n : 0, threshold_));
    per_sample(pred, target, out, [&](const float* p, const float* t, int64_t d, int64_t) {
      int64_t hits = 0;
      for (int64_t j = 0; j < d; ++j) hits += ((p[j] > threshold_ ? 1.0f : 0.0f) == t[j]);
      return static_cast<float>(hits) / static_cast<float>(d);
    });
  }

 private:
  float threshold_;
};

// Categorical accuracy (by_argmax: the first highest prediction is the true class) or top-k
// accuracy (Keras's in_top_k: fewer than k predictions strictly greater than the true class's, so
// ties count for it; TopKCategoricalAccuracy(k=1) is not argmax when the top scores tie).
class TopKAccuracy : public MeanMetric {
 public:
  TopKAccuracy(bool sparse, int64_t k, bool by_argmax)
      : sparse_(sparse), k_(k), by_argmax_(by_argmax) {}
  void check_target(const Shape& p, const Shape& t) const override {
    if (!sparse_ || p.empty()) return Metric::check_target(p, t);
    const Shape rows(p.begin(), p.end() - 1);
    KS_CHECK(shape_numel(t) == shape_numel(rows), "A sparse accuracy expects integer labels of ",
             "per-sample shape ", shape_str(rows), " for an output of per-sample shape ",
             shape_str(p), ". Received: labels of per-sample shape ", shape_str(t));
  }
  void check_target_values(const float* t, int64_t count, int64_t c) const override {
    if (!sparse_) return;
    for (int64_t r = 0; r < count; ++r)
      KS_CHECK(t[r] >= 0 && t[r] < static_cast<float>(c) && t[r] == std::floor(t[r]),
               "Received a label value of ", t[r], " which is outside the valid range of [0, ", c,
               ") for a sparse accuracy metric (labels must be integers)");
  }
  void compute(const Tensor& pred, const Tensor*, Act, const Tensor& target, float* out) override {
    const int64_t c = pred.dim(-1);
    const int64_t n = pred.dim(0);
    KS_METRIC_ON_CUDA(pred, cuda::top_k_accuracy(pred.data(), target.data(), out, n,
                                                 n ? pred.numel() / n : 0, c, sparse_, k_,
                                                 by_argmax_));
    per_sample(pred, target, out, [&](const float* p, const float* t, int64_t d, int64_t) {
      return mean_over_rows(p, t, d, c, sparse_ ? 1 : c, [&](const float* pr, const float* tr) {
        const int64_t label = sparse_ ? static_cast<int64_t>(tr[0]) : argmax(tr, c);
        if (label < 0 || label >= c) return 0.0f;
        if (by_argmax_) return argmax(pr, c) == label ? 1.0f : 0.0f;
        int64_t greater = 0;
        for (int64_t j = 0; j < c; ++j) greater += pr[j] > pr[label];
        return greater < k_ ? 1.0f : 0.0f;
      });
    });
  }

 private:
  bool sparse_;
  int64_t k_;
  bool by_argmax_;
};

// Mean squared or absolute error; root: the root mean squared error, sqrt(total / count) over the
// epoch as Keras computes it (not a mean of per-batch roots).
class ErrorMetric : public MeanMetric {
 public:
  ErrorMetric(bool squared, bool root) : squared_(squared), root_(root) {}
  double result(const double* sums, double count) const override {
    const double mean = MeanMetric::result(sums, count);
    return root_ ? std::sqrt(mean) : mean;
  }
  void compute(const Tensor& pred, const Tensor*, Act, const Tensor& target, float* out) override {
    const int64_t n = pred.dim(0);
    KS_METRIC_ON_CUDA(pred, cuda::error_metric(pred.data(), target.data(), out, n,
                                               n ? pred.numel() / n : 0, squared_));
    per_sample(pred, target, out, [&](const float* p, const float* t, int64_t d, int64_t) {
      double acc = 0.0;
      for (int64_t j = 0; j < d; ++j) {
        const double e = static_cast<double>(p[j]) - t[j];
        acc += squared_ ? e * e : std::fabs(e);
      }
      return static_cast<float>(acc / static_cast<double>(d));
    });
  }

 private:
  bool squared_, root_;
};

// Keras's metrics that wrap a loss function (the cross-entropies, `kl_divergence`, `hinge`, ...):
// the loss's per-sample values, unweighted, averaged over the epoch. Computed by the loss classes
// themselves (no gradient). As for the losses (and Keras's TensorFlow backend), the logits of a
// sigmoid or softmax output are used instead of its probabilities, so that the metric equals the
// loss of the same name.
class LossMetric : public MeanMetric {
 public:
  explicit LossMetric(std::unique_ptr<Loss> loss) : loss_(std::move(loss)) {}
  void check_target(const Shape& p, const Shape& t) const override { loss_->check_target(p, t); }
  void check_target_values(const float* t, int64_t count, int64_t c) const override {
    loss_->check_target_values(t, count, c);
  }

 protected:
  void compute(const Tensor& pred, const Tensor* logits, Act act, const Tensor& target,
               float* out) override {
    // The target shape was checked once per fit/evaluate (Graph::check_target).
    loss_->fused = logits && loss_->fuses_with(act);
    loss_->compute(pred, logits, target, ones(pred.dim(0), pred.device()), out, nullptr);
  }

 private:
  std::unique_ptr<Loss> loss_;
};

}  // namespace

std::unique_ptr<Metric> make_metric(const std::string& kind, const Attrs& a) {
  if (kind == "binary_accuracy")
    return std::make_unique<BinaryAccuracy>(static_cast<float>(a.get_float("threshold", 0.5)));
  if (kind == "categorical_accuracy") return std::make_unique<TopKAccuracy>(false, 1, true);
  if (kind == "sparse_categorical_accuracy") return std::make_unique<TopKAccuracy>(true, 1, true);
  if (kind == "top_k_categorical_accuracy")
    return std::make_unique<TopKAccuracy>(false, a.get_int("k", 5), false);
  if (kind == "sparse_top_k_categorical_accuracy")
    return std::make_unique<TopKAccuracy>(true, a.get_int("k", 5), false);
  if (kind == "mean_squared_error") return std::make_unique<ErrorMetric>(true, false);
  if (kind == "mean_absolute_error") return std::make_unique<ErrorMetric>(false, false);
  if (kind == "root_mean_squared_error") return std::make_unique<ErrorMetric>(true, true);
  static const char* const kLossMetrics[] = {
      "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
      "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "kl_divergence",
      "poisson", "log_cosh", "hinge", "squared_hinge", "categorical_hinge"};
  for (const char* name : kLossMetrics)
    if (kind == name) return std::make_unique<LossMetric>(make_loss(kind, a));
  if (kind == "cosine_similarity") {  // Keras's metric is the similarity; its loss the negative
    Attrs similarity = a;
    similarity.set("similarity", true);
    return std::make_unique<LossMetric>(make_loss(kind, similarity));
  }
  if (auto m = make_confusion_metric(kind, a)) return m;
  fail("Unknown engine metric '", kind, "'");
}

}  // namespace kerasette

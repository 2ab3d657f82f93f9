// Precision, Recall and AUC: values read from confusion counts streamed over the epoch, with the
// rules of Keras 3 (keras/src/metrics/confusion_metrics.py and metrics_utils.py).
//
// Precision and Recall keep [true positives, false positives, false negatives] at one threshold.
// AUC keeps, for each of its T thresholds, the positives and the negatives whose prediction lands
// in that threshold's bucket, then the totals of positives and negatives: 2T + 2 sums. Threshold
// i's true positives are the positives of buckets i and up, a suffix sum taken when the result is
// read, which is Keras's bucketed update (`_update_confusion_matrix_variables_optimized`) with the
// cumulative sum moved from every batch to the end; the counts are whole numbers, so nothing
// changes but the work.
//
// Weighted (`weighted_metrics`), each prediction adds its sample's weight instead of 1, as Keras
// broadcasts sample_weight over y_pred. On CUDA those sums are no longer whole numbers, so the
// kernels write each row's (or prediction's) weighted contribution and fixed-order reductions add
// them, instead of atomics, to keep the sums the same from run to run.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "nn/metrics.h"
#include "ops/device_ops.h"
#ifdef KERASETTE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace kerasette {

namespace {

double divide_no_nan(double a, double b) { return b == 0.0 ? 0.0 : a / b; }

void check_same_size(const char* metric, const Tensor& pred, const Tensor& target) {
  KS_CHECK(pred.numel() == target.numel(), metric, " expects targets of the output's shape ",
           shape_str(pred.shape()), ". Received: targets of shape ", shape_str(target.shape()));
}

// TensorFlow's top_k order: higher values first, ties to the lower index. NaN ranks last.
bool ranks_before(const float* p, int64_t a, int64_t b) {
  const float ka = std::isnan(p[a]) ? -INFINITY : p[a], kb = std::isnan(p[b]) ? -INFINITY : p[b];
  return ka > kb || (ka == kb && a < b);
}

// Precision (tp / (tp + fp)) or Recall (tp / (tp + fn)) at one threshold. A prediction is positive
// when it is greater than the threshold and, with top_k, among the top_k of its row (the last
// axis): Keras sets the others to -1e10 (`_filter_top_k`), and no threshold lies below that. With
// class_id only that column of each row counts. A target is positive when it is not 0.
class PrecisionRecall : public Metric {
 public:
  PrecisionRecall(bool recall, const Attrs& a)
      : recall_(recall),
        threshold_(static_cast<float>(a.get_float("threshold", 0.5))),
        top_k_(a.get_int("top_k", 0)),
        class_id_(a.get_int("class_id", -1)) {}
  int64_t num_sums() const override { return 3; }

  void accumulate(const Tensor& pred, const Tensor*, Act, const Tensor& target,
                  const float* weight, double* sums) override {
    const char* name = recall_ ? "Recall" : "Precision";
    check_same_size(name, pred, target);
    const int64_t c = pred.ndim() > 1 ? pred.dim(-1) : 1;
    const int64_t rows = c ? pred.numel() / c : 0;
    KS_CHECK(class_id_ < c, name, ": `class_id` must be in [0, ", c, ") for an output whose last ",
             "axis has ", c, " classes. Received: class_id=", class_id_);
    const int64_t top_k = top_k_ > 0 && top_k_ < c ? top_k_ : 0;  // 0: every prediction counts
    const int64_t n = pred.dim(0), rows_per_sample = n ? rows / n : 0;
    if (pred.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      if (!weight) {
        cuda::confusion_counts(pred.data(), target.data(), rows, c, threshold_, top_k, class_id_,
                               sums);
        return;
      }
      per_row_.resize({3 * rows}, Device::CUDA);
      cuda::weighted_confusion_rows(pred.data(), target.data(), weight, rows, rows_per_sample, c,
                                    threshold_, top_k, class_id_, per_row_.data());
      for (int64_t k = 0; k < 3; ++k)
        cuda::weighted_sum_into(per_row_.data() + k * rows, nullptr, rows, 1.0, sums + k);
      return;
#else
      no_cuda_build("metric");
#endif
    }
    double tp = 0, fp = 0, fn = 0;  // in row order: the same bits for any number of threads
    const int64_t lo = class_id_ >= 0 ? class_id_ : 0, hi = class_id_ >= 0 ? class_id_ + 1 : c;
    for (int64_t r = 0; r < rows; ++r) {
      const float* p = pred.data() + r * c;
      const float* t = target.data() + r * c;
      int64_t last_in = -1;  // the top_k-th prediction of the row, when the whole row counts
      if (top_k && class_id_ < 0) {
        order_.resize(c);
        std::iota(order_.begin(), order_.end(), int64_t{0});
        std::nth_element(order_.begin(), order_.begin() + (top_k - 1), order_.end(),
                         [&](int64_t a, int64_t b) { return ranks_before(p, a, b); });
        last_in = order_[top_k - 1];
      }
      int64_t row_tp = 0, row_fp = 0, row_fn = 0;
      for (int64_t j = lo; j < hi; ++j) {
        bool in_top = true;
        if (top_k && last_in >= 0) {
          in_top = !ranks_before(p, last_in, j);
        } else if (top_k) {
          int64_t rank = 0;
          for (int64_t i = 0; i < c; ++i) rank += ranks_before(p, i, j);
          in_top = rank < top_k;
        }
        const bool pos = in_top && p[j] > threshold_;
        const bool label = t[j] != 0.0f;
        row_tp += pos && label;
        row_fp += pos && !label;
        row_fn += !pos && label;
      }
      // As the CUDA kernel: the row's whole counts times its sample's weight, in float.
      const float w = weight ? weight[r / rows_per_sample] : 1.0f;
      tp += static_cast<float>(row_tp) * w;
      fp += static_cast<float>(row_fp) * w;
      fn += static_cast<float>(row_fn) * w;
    }
    sums[0] += tp;
    sums[1] += fp;
    sums[2] += fn;
  }

  double result(const double* s, double) const override {
    return divide_no_nan(s[0], s[0] + (recall_ ? s[2] : s[1]));
  }

 private:
  bool recall_;
  float threshold_;
  int64_t top_k_, class_id_;
  std::vector<int64_t> order_;
  Tensor per_row_;
};

enum class Curve { ROC, PR, PRGAIN };
enum class Summation { Interpolation, Minoring, Majoring };

// The area under the ROC or PR curve (or PR gain) over T thresholds, all predictions flattened
// (multi_label=False). thresholds: Keras's `_thresholds`, [-eps, ..., 1 + eps]. When they are
// evenly spaced, a prediction p (clipped to [0, 1]) falls in bucket ceil(p (T - 1)) - 1 (at least
// 0), the float32 formula of Keras's fast path; otherwise in the bucket of the last threshold it
// is greater than (none when it is greater than none), Keras's general path.
class Auc : public Metric {
 public:
  explicit Auc(const Attrs& a)
      : evenly_(a.get_bool("evenly", true)), from_logits_(a.get_bool("from_logits", false)) {
    for (double t : a.get_floats("thresholds")) thresholds_.push_back(static_cast<float>(t));
    KS_CHECK(thresholds_.size() >= 2, "AUC: expected at least 2 thresholds, received ",
             thresholds_.size());
    const std::string curve = a.get_str("curve", "ROC");
    curve_ = curve == "PR" ? Curve::PR : curve == "PRGAIN" ? Curve::PRGAIN : Curve::ROC;
    const std::string sum = a.get_str("summation_method", "interpolation");
    summation_ = sum == "minoring"   ? Summation::Minoring
                 : sum == "majoring" ? Summation::Majoring
                                     : Summation::Interpolation;
  }
  int64_t num_sums() const override { return 2 * num_thresholds() + 2; }
  int64_t num_thresholds() const { return static_cast<int64_t>(thresholds_.size()); }

  void accumulate(const Tensor& pred, const Tensor*, Act, const Tensor& target,
                  const float* weight, double* sums) override {
    check_same_size("AUC", pred, target);
    const int64_t n = pred.numel(), T = num_thresholds();
    const int64_t per_sample = pred.dim(0) ? n / pred.dim(0) : 1;
    if (pred.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      if (!evenly_ && !device_thresholds_.defined()) {
        device_thresholds_ = Tensor({T}, Device::CUDA);
        device_thresholds_.copy_from_host(thresholds_.data());
      }
      const float* thresholds = evenly_ ? nullptr : device_thresholds_.data();
      if (weight)
        cuda::weighted_auc_buckets(pred.data(), target.data(), weight, n, per_sample, T,
                                   thresholds, from_logits_, sums);
      else
        cuda::auc_buckets(pred.data(), target.data(), n, T, thresholds, from_logits_, sums);
      return;
#else
      no_cuda_build("metric");
#endif
    }
    counts_.assign(2 * T + 2, 0.0);  // in prediction order: the same bits for any threads
    for (int64_t i = 0; i < n; ++i) {
      const bool label = target.data()[i] != 0.0f;
      const int64_t b = bucket(pred.data()[i]);
      const double w = weight ? weight[i / per_sample] : 1.0;
      if (b >= 0) counts_[(label ? 0 : T) + b] += w;
      counts_[2 * T + (label ? 0 : 1)] += w;
    }
    for (int64_t k = 0; k < 2 * T + 2; ++k) sums[k] += counts_[k];
  }

  double result(const double* s, double) const override;

 private:
  int64_t bucket(float p) const {
    if (from_logits_)
      p = p >= 0 ? 1.0f / (1.0f + std::exp(-p)) : std::exp(p) / (1.0f + std::exp(p));
    if (std::isnan(p)) return -1;
    if (evenly_) {
      p = std::min(std::max(p, 0.0f), 1.0f);
      const float scaled = p * static_cast<float>(num_thresholds() - 1);
      return std::max<int64_t>(static_cast<int64_t>(std::ceil(scaled)) - 1, 0);
    }
    return (std::lower_bound(thresholds_.begin(), thresholds_.end(), p) - thresholds_.begin()) - 1;
  }

  std::vector<float> thresholds_;
  bool evenly_, from_logits_;
  Curve curve_;
  Summation summation_;
  std::vector<double> counts_;
  Tensor device_thresholds_;
};

// Keras's AUC.result() and interpolate_pr_auc(), in double from the counts.
double Auc::result(const double* s, double) const {
  const int64_t T = num_thresholds();
  std::vector<double> tp(T), fp(T), fn(T), tn(T);
  double tp_acc = 0.0, fp_acc = 0.0;
  for (int64_t i = T - 1; i >= 0; --i) {
    tp[i] = tp_acc += s[i];
    fp[i] = fp_acc += s[T + i];
  }
  for (int64_t i = 0; i < T; ++i) {
    fn[i] = s[2 * T] - tp[i];
    tn[i] = s[2 * T + 1] - fp[i];
  }
  double area = 0.0;
  if (curve_ == Curve::PR && summation_ == Summation::Interpolation) {
    // Davis & Goadrich's interpolation: precision varies as TP / P with TP and P linear between
    // neighbouring thresholds.
    for (int64_t i = 0; i + 1 < T; ++i) {
      const double dtp = tp[i] - tp[i + 1];
      const double p0 = tp[i] + fp[i], p1 = tp[i + 1] + fp[i + 1];
      const double slope = divide_no_nan(dtp, std::max(p0 - p1, 0.0));
      const double intercept = tp[i + 1] - slope * p1;
      const double ratio = p0 > 0 && p1 > 0 ? divide_no_nan(p0, std::max(p1, 0.0)) : 1.0;
      area += divide_no_nan(slope * (dtp + intercept * std::log(ratio)),
                            std::max(tp[i + 1] + fn[i + 1], 0.0));
    }
    return area;
  }
  std::vector<double> x(T), y(T);
  for (int64_t i = 0; i < T; ++i) {
    const double recall = divide_no_nan(tp[i], tp[i] + fn[i]);
    if (curve_ == Curve::ROC) {
      x[i] = divide_no_nan(fp[i], fp[i] + tn[i]);
      y[i] = recall;
    } else if (curve_ == Curve::PR) {
      x[i] = recall;
      y[i] = divide_no_nan(tp[i], tp[i] + fp[i]);
    } else {  // PR gain, with Keras's fixes for no true positives and negative recall gain
      const double scale = divide_no_nan(tp[i] + fn[i], tn[i] + fp[i]);
      x[i] = tp[i] == 0 ? 0.0 : std::max(1.0 - scale * divide_no_nan(fn[i], tp[i]), 0.0);
      y[i] = tp[i] == 0 ? 1.0 : 1.0 - scale * divide_no_nan(fp[i], tp[i]);
    }
  }
  for (int64_t i = 0; i + 1 < T; ++i) {
    const double h = summation_ == Summation::Interpolation ? (y[i] + y[i + 1]) / 2.0
                     : summation_ == Summation::Minoring    ? std::min(y[i], y[i + 1])
                                                            : std::max(y[i], y[i + 1]);
    area += (x[i] - x[i + 1]) * h;
  }
  return area;
}

}  // namespace

std::unique_ptr<Metric> make_confusion_metric(const std::string& kind, const Attrs& a) {
  if (kind == "precision") return std::make_unique<PrecisionRecall>(false, a);
  if (kind == "recall") return std::make_unique<PrecisionRecall>(true, a);
  if (kind == "auc") return std::make_unique<Auc>(a);
  return nullptr;
}

}  // namespace kerasette

// Metrics as the graph accumulates them over an epoch. Each metric adds every batch into a few
// double sums of its own (num_sums() of them: a sum of per-sample values, true/false positive
// counts, per-threshold confusion counts) and turns the epoch's sums and the number of samples seen
// into the value reported (a mean, a square root of one, a ratio of counts, an area under a curve).
//
// Metrics given to compile(metrics=) are unweighted, as in Keras 3; those given as
// `weighted_metrics` are flagged `weighted` and take the batch's sample weights (sample_weight and
// class_weight folded together): a mean metric then reports sum(w v) / sum(w) (Keras's Mean with a
// sample_weight), and the confusion metrics add each prediction's weight instead of 1.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/tensor.h"
#include "kernels/cpu/kernels.h"  // Act
#include "nn/attrs.h"

namespace kerasette {

class Metric {
 public:
  virtual ~Metric() = default;
  // How many doubles the metric keeps over an epoch.
  virtual int64_t num_sums() const { return 1; }
  // Adds one batch (pred and target, batch axis first) into sums[0, num_sums()): host doubles for
  // CPU tensors, device doubles for CUDA tensors (no synchronization). logits and act: the output
  // layer's pre-activation values and activation (null and Linear when it has none). weight: the
  // batch's sample weights (N,) on pred's device, or null (every sample weighs 1); the graph passes
  // them only to a `weighted` metric. The batch is summed in a fixed order, so the sums have the
  // same bits whatever the number of threads (and, on CUDA, whatever order the blocks run in).
  virtual void accumulate(const Tensor& pred, const Tensor* logits, Act act, const Tensor& target,
                          const float* weight, double* sums) = 0;
  // For an output without a loss, the metric checks the targets the loss would have: their
  // per-sample shape against the output's (ValueError naming both), and on the host the values a
  // kernel could not reject (integer labels in range; `classes` is the output's last dimension).
  virtual void check_target(const Shape& pred_sample, const Shape& target_sample) const;
  virtual void check_target_values(const float* /*target*/, int64_t /*count*/,
                                   int64_t /*classes*/) const {}
  // The value reported after `count` samples whose batches were added into `sums` (host doubles).
  virtual double result(const double* sums, double count) const {
    return count > 0 ? sums[0] / count : 0.0;
  }
  bool weighted = false;  // a `weighted_metrics` entry: the graph passes it the sample weights
};

// A mean over samples of a per-sample value (Keras's MeanMetricWrapper): sums[0] holds the sum
// of the values; a weighted one keeps sum(w v) and sum(w), and reports 0 while sum(w) is 0
// (Keras's divide_no_nan).
class MeanMetric : public Metric {
 public:
  int64_t num_sums() const override { return weighted ? 2 : 1; }
  void accumulate(const Tensor& pred, const Tensor* logits, Act act, const Tensor& target,
                  const float* weight, double* sums) override;
  double result(const double* sums, double count) const override;

 protected:
  // Writes the per-sample values (a device pointer on CUDA tensors).
  virtual void compute(const Tensor& pred, const Tensor* logits, Act act, const Tensor& target,
                       float* per_sample) = 0;
  // n ones on `device`, filled only when n or the device changes.
  const float* ones(int64_t n, Device device);

 private:
  Tensor per_sample_, ones_;
};

// kind: a Keras metric name (`precision`, `auc`, `root_mean_squared_error`, ...); throws on an
// unknown kind.
std::unique_ptr<Metric> make_metric(const std::string& kind, const Attrs& attrs);
// Precision, Recall and AUC (confusion_metrics.cpp); null for other kinds.
std::unique_ptr<Metric> make_confusion_metric(const std::string& kind, const Attrs& attrs);

}  // namespace kerasette

// Metrics as the graph accumulates them over an epoch. Each metric adds every batch into a few
// double sums of its own (num_sums() of them: a sum of per-sample values, true/false positive
// counts, per-threshold confusion counts) and turns the epoch's sums and the number of samples seen
// into the value reported (a mean, a square root of one, a ratio of counts, an area under a curve).
//
// Metrics given to compile() are unweighted, as in Keras 3 (sample weights reach only the loss and
// `weighted_metrics`), so every count is a whole number.
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
  // layer's pre-activation values and activation (null and Linear when it has none). The batch is
  // summed in a fixed order, so the sums have the same bits whatever the number of threads.
  virtual void accumulate(const Tensor& pred, const Tensor* logits, Act act, const Tensor& target,
                          double* sums) = 0;
  // The value reported after `count` samples whose batches were added into `sums` (host doubles).
  virtual double result(const double* sums, double count) const {
    return count > 0 ? sums[0] / count : 0.0;
  }
};

// A mean over samples of a per-sample value (Keras's MeanMetricWrapper): sums[0] holds the sum.
class MeanMetric : public Metric {
 public:
  void accumulate(const Tensor& pred, const Tensor* logits, Act act, const Tensor& target,
                  double* sums) override;

 protected:
  // Writes the per-sample values (a device pointer on CUDA tensors).
  virtual void compute(const Tensor& pred, const Tensor* logits, Act act, const Tensor& target,
                       float* per_sample) = 0;

 private:
  Tensor per_sample_;
};

// kind: a Keras metric name (`precision`, `auc`, `root_mean_squared_error`, ...); throws on an
// unknown kind.
std::unique_ptr<Metric> make_metric(const std::string& kind, const Attrs& attrs);
// Precision, Recall and AUC (confusion_metrics.cpp); null for other kinds.
std::unique_ptr<Metric> make_confusion_metric(const std::string& kind, const Attrs& attrs);

}  // namespace kerasette

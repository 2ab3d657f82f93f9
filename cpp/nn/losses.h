// Losses computed per sample. The graph reduces them Keras's way: the weighted sum over the batch
// divided by the batch size ("sum_over_batch_size"). Metrics are in nn/metrics.h.
#pragma once
#include <memory>
#include <string>

#include "core/tensor.h"
#include "nn/attrs.h"
#include "kernels/cpu/kernels.h"

namespace kerasette {

class Loss {
 public:
  virtual ~Loss() = default;
  // pred: the output (N, ...); logits: the output before its activation, used when fused;
  // target: same leading size. Writes the per-sample loss into per_sample[N] and, when grad is
  // non-null, grad = coef[i] * d(loss_i)/d(pred) (or d/d(logits) when fused) resized to pred's shape.
  virtual void compute(const Tensor& pred, const Tensor* logits, const Tensor& target,
                       const float* coef, float* per_sample, Tensor* grad) const = 0;
  // Whether the loss can take the logits of an output that ends in `act` (stable fused form).
  virtual bool fuses_with(Act) const { return false; }
  // Checks the target's per-sample shape against the output's; throws ValueError.
  virtual void check_target(const Shape& pred_sample, const Shape& target_sample) const;
  // Checks target values on the host before they go to a device that cannot raise (integer
  // labels in range); `classes` is the output's last dimension.
  virtual void check_target_values(const float* /*target*/, int64_t /*count*/,
                                   int64_t /*classes*/) const {}
  bool fused = false;  // set by the graph when the output's activation fuses with this loss
};

// kind: a Keras loss function name (`mean_squared_error`, `kl_divergence`, ...); throws on an
// unknown kind.
std::unique_ptr<Loss> make_loss(const std::string& kind, const Attrs& attrs);
// CosineSimilarity and CategoricalHinge (row_losses.cpp); null for other kinds.
std::unique_ptr<Loss> make_row_loss(const std::string& kind, const Attrs& attrs);

}  // namespace kerasette

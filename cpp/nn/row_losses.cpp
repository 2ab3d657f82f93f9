// Losses of a whole row (the last axis) at once: CosineSimilarity and CategoricalHinge. A sample's
// loss is the mean of its rows' values, as Keras's sum_over_batch_size averages the (N, ...) row
// values. Sums run in double over the row in index order, so the result does not depend on threads.
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/parallel.h"
#include "kernels/loss_elements.h"
#include "nn/losses.h"
#include "ops/device_ops.h"
#ifdef KERASETTE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace kerasette {

namespace {

class RowLoss : public Loss {
 public:
  void check_target(const Shape& p, const Shape& t) const override {
    KS_CHECK(p == t, name(), " expects targets of the output's per-sample shape ", shape_str(p),
             ". Received: targets of per-sample shape ", shape_str(t));
  }

  void compute(const Tensor& pred, const Tensor*, const Tensor& target, const float* coef,
               float* per_sample, Tensor* grad) const override {
    const int64_t n = pred.dim(0);
    const int64_t c = pred.shape().size() > 1 ? pred.dim(-1) : 1;
    const int64_t rows_per_sample = n && c ? pred.numel() / (n * c) : 0;
    if (grad) grad->resize(pred.shape(), pred.device());
    if (pred.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      compute_cuda(pred.data(), target.data(), coef, per_sample, grad ? grad->data() : nullptr, n,
                   rows_per_sample, c);
      return;
#else
      no_cuda_build(name());
#endif
    }
    parallel_for(n, chunk_for(n, std::max<int64_t>(1, 8192 / std::max<int64_t>(c, 1))),
                 [&](int64_t b, int64_t e) {
                   for (int64_t i = b; i < e; ++i) {
                     double acc = 0.0;
                     const float scale = coef[i] / static_cast<float>(rows_per_sample);
                     for (int64_t rr = 0; rr < rows_per_sample; ++rr) {
                       const int64_t off = (i * rows_per_sample + rr) * c;
                       acc += row(pred.data() + off, target.data() + off, c,
                                  grad ? grad->data() + off : nullptr, scale);
                     }
                     per_sample[i] = static_cast<float>(acc / static_cast<double>(rows_per_sample));
                   }
                 });
  }

 protected:
  virtual const char* name() const = 0;
  // The row's loss; when g is non-null, g = scale * d(loss)/d(p).
  virtual double row(const float* p, const float* t, int64_t c, float* g, float scale) const = 0;
#ifdef KERASETTE_WITH_CUDA
  virtual void compute_cuda(const float* p, const float* t, const float* coef, float* per_sample,
                            float* g, int64_t n, int64_t rows_per_sample, int64_t c) const = 0;
#endif
};

// Keras: -sum(l2_normalize(t) * l2_normalize(p)), normalize(x) = x * min(rsqrt(sum x^2), 1 / eps).
// sign is -1 for the loss, +1 for the CosineSimilarity metric.
class CosineSimilarity : public RowLoss {
 public:
  explicit CosineSimilarity(float sign) : sign_(sign) {}

 protected:
  const char* name() const override { return "cosine_similarity"; }
  double row(const float* p, const float* t, int64_t c, float* g, float scale) const override {
    double spp = 0.0, stt = 0.0, spt = 0.0;
    for (int64_t j = 0; j < c; ++j) {
      spp += static_cast<double>(p[j]) * p[j];
      stt += static_cast<double>(t[j]) * t[j];
      spt += static_cast<double>(p[j]) * t[j];
    }
    const double cap = 1.0 / kLossEpsilon;
    const double inv_p = std::fmin(1.0 / std::sqrt(spp), cap);
    const double inv_t = std::fmin(1.0 / std::sqrt(stt), cap);
    // Below the cap, the norm's derivative enters; at the cap, inv_p is a constant.
    const bool p_scaled = 1.0 / std::sqrt(spp) < cap;
    if (g)
      for (int64_t j = 0; j < c; ++j) {
        double d = t[j] * inv_p;
        if (p_scaled) d -= spt * p[j] * inv_p * inv_p * inv_p;
        g[j] = static_cast<float>(scale * sign_ * inv_t * d);
      }
    return sign_ * spt * inv_p * inv_t;
  }
#ifdef KERASETTE_WITH_CUDA
  void compute_cuda(const float* p, const float* t, const float* coef, float* per_sample, float* g,
                    int64_t n, int64_t rows_per_sample, int64_t c) const override {
    cuda::cosine_similarity(p, t, coef, per_sample, g, n, rows_per_sample, c, sign_);
  }
#endif

 private:
  float sign_;
};

// Keras: max(max((1 - t) * p) - sum(t * p) + 1, 0). The max's gradient is shared equally among
// the entries that reach it, as TensorFlow's reduce_max gradient is.
class CategoricalHinge : public RowLoss {
 protected:
  const char* name() const override { return "categorical_hinge"; }
  double row(const float* p, const float* t, int64_t c, float* g, float scale) const override {
    double pos = 0.0;
    float neg = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < c; ++j) {
      pos += static_cast<double>(t[j]) * p[j];
      neg = std::fmax(neg, (1.0f - t[j]) * p[j]);
    }
    float ties = 0.0f;
    for (int64_t j = 0; j < c; ++j) ties += ((1.0f - t[j]) * p[j] == neg) ? 1.0f : 0.0f;
    const float v = neg - static_cast<float>(pos) + 1.0f;
    if (g)
      for (int64_t j = 0; j < c; ++j) {
        const float at_max = ((1.0f - t[j]) * p[j] == neg) ? (1.0f - t[j]) / ties : 0.0f;
        g[j] = v > 0.0f ? scale * (at_max - t[j]) : 0.0f;
      }
    return std::fmax(v, 0.0f);
  }
#ifdef KERASETTE_WITH_CUDA
  void compute_cuda(const float* p, const float* t, const float* coef, float* per_sample, float* g,
                    int64_t n, int64_t rows_per_sample, int64_t c) const override {
    cuda::categorical_hinge(p, t, coef, per_sample, g, n, rows_per_sample, c);
  }
#endif
};

}  // namespace

std::unique_ptr<Loss> make_row_loss(const std::string& kind, const Attrs& a) {
  if (kind == "cosine_similarity")
    return std::make_unique<CosineSimilarity>(a.get_bool("similarity", false) ? 1.0f : -1.0f);
  if (kind == "categorical_hinge") return std::make_unique<CategoricalHinge>();
  return nullptr;
}

}  // namespace kerasette

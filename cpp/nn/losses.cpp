#include "nn/losses.h"

#include <cmath>
#include <utility>

#include "core/error.h"
#include "core/parallel.h"
#include "kernels/loss_elements.h"
#include "ops/device_ops.h"
#ifdef KERASETTE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace kerasette {

namespace {

constexpr float kEpsilon = kLossEpsilon;

inline float clampf(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }

// Runs fn(i, pred_row, target_row, row_size) for each sample, in parallel over samples.
template <typename Fn>
void for_samples(const Tensor& pred, const Tensor& target, Fn&& fn) {
  const int64_t n = pred.dim(0);
  const int64_t d = n ? pred.numel() / n : 0;
  const int64_t td = n ? target.numel() / n : 0;
  parallel_for(n, chunk_for(n, std::max<int64_t>(1, 16384 / std::max<int64_t>(d, 1))),
               [&](int64_t b, int64_t e) {
                 for (int64_t i = b; i < e; ++i)
                   fn(i, pred.data() + i * d, target.data() + i * td, d);
               });
}

// The losses of kernels/loss_elements.h: Keras's mean (or, for KLDivergence, sum) over the last
// axis of a per-element loss, averaged over the sample's other positions. The hinge losses first
// look at the whole batch's targets: Keras maps them to -1/+1 only when every one is 0 or 1.
class ElementwiseLossFn : public Loss {
 public:
  ElementwiseLossFn(ElementwiseLoss kind, float param) : kind_(kind), param_(param) {}

  void compute(const Tensor& pred, const Tensor*, const Tensor& target, const float* coef,
               float* per_sample, Tensor* grad) const override {
    if (grad) grad->resize(pred.shape(), pred.device());
    const int64_t n = pred.dim(0);
    const int64_t d = n ? pred.numel() / n : 0;
    const int64_t c = pred.shape().size() > 1 ? pred.dim(-1) : 1;
    const int64_t div = sums_last_axis(kind_) && c > 0 ? d / c : d;
    if (pred.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      const float* flag = nullptr;
      if (uses_binary_flag(kind_)) {
        flag_.resize({1}, Device::CUDA);
        cuda::binary_labels_flag(target.data(), target.numel(), flag_.data());
        flag = flag_.data();
      }
      cuda::elementwise_loss(kind_, param_, flag, pred.data(), target.data(), coef, per_sample,
                             grad ? grad->data() : nullptr, n, d, div);
      return;
#else
      no_cuda_build("loss");
#endif
    }
    float param = param_;
    if (uses_binary_flag(kind_)) {
      const float* t = target.data();
      bool binary = true;
      for (int64_t j = 0; j < target.numel() && binary; ++j) binary = t[j] == 0.0f || t[j] == 1.0f;
      param = binary ? 1.0f : 0.0f;
    }
    visit_elementwise_loss(kind_, [&](auto k) {
      for_samples(pred, target, [&](int64_t i, const float* p, const float* t, int64_t) {
        double acc = 0.0;
        float* g = grad ? grad->data() + i * d : nullptr;
        const float scale = grad ? coef[i] / static_cast<float>(div) : 0.0f;
        for (int64_t j = 0; j < d; ++j) {
          float dl;
          acc += elementwise_loss_value<decltype(k)::value>(p[j], t[j], param, &dl);
          if (g) g[j] = scale * dl;
        }
        per_sample[i] = static_cast<float>(acc / static_cast<double>(div));
      });
    });
  }

 private:
  ElementwiseLoss kind_;
  float param_;
  mutable Tensor flag_;  // the hinge losses' device-side flag
};

// Binary cross-entropy. Probabilities are clipped to [eps, 1 - eps] as Keras does; when the output
// is a sigmoid the loss is computed from the logits instead (what Keras's TensorFlow backend does
// for sigmoid outputs), which is exact and stable.
class BinaryCrossentropy : public Loss {
 public:
  BinaryCrossentropy(bool from_logits, float smoothing)
      : from_logits_(from_logits), smoothing_(smoothing) {}
  bool fuses_with(Act act) const override { return !from_logits_ && act == Act::Sigmoid; }
  void compute(const Tensor& pred, const Tensor* logits, const Tensor& target, const float* coef,
               float* per_sample, Tensor* grad) const override {
    const bool use_logits = from_logits_ || fused;
    const Tensor& src = (fused && logits) ? *logits : pred;
    if (grad) grad->resize(pred.shape(), pred.device());
    if (pred.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      const int64_t n = src.dim(0);
      cuda::binary_crossentropy(src.data(), target.data(), coef, per_sample,
                                grad ? grad->data() : nullptr, n, n ? src.numel() / n : 0,
                                use_logits, smoothing_);
      return;
#else
      no_cuda_build("binary_crossentropy");
#endif
    }
    for_samples(src, target, [&](int64_t i, const float* p, const float* t, int64_t d) {
      double acc = 0.0;
      float* g = grad ? grad->data() + i * d : nullptr;
      const float scale = grad ? coef[i] / static_cast<float>(d) : 0.0f;
      for (int64_t j = 0; j < d; ++j) {
        const float y = t[j] * (1.0f - smoothing_) + 0.5f * smoothing_;
        if (use_logits) {
          const float z = p[j];
          acc += std::fmax(z, 0.0f) - z * y + std::log1p(std::exp(-std::fabs(z)));
          if (g) {
            const float s = z >= 0 ? 1.0f / (1.0f + std::exp(-z)) : std::exp(z) / (1.0f + std::exp(z));
            g[j] = scale * (s - y);
          }
        } else {
          const float q = clampf(p[j], kEpsilon, 1.0f - kEpsilon);
          acc += -(y * std::log(q) + (1.0f - y) * std::log(1.0f - q));
          if (g) {
            const bool clipped = p[j] < kEpsilon || p[j] > 1.0f - kEpsilon;
            g[j] = clipped ? 0.0f : scale * (-y / q + (1.0f - y) / (1.0f - q));
          }
        }
      }
      per_sample[i] = static_cast<float>(acc / static_cast<double>(d));
    });
  }

 private:
  bool from_logits_;
  float smoothing_;
};

// Categorical cross-entropy over the last axis, with one-hot (dense) or integer (sparse) targets.
// Probabilities: normalized to sum 1, clipped to [eps, 1 - eps], -sum(y log q) (Keras's rule).
// Logits (from_logits, or fused with a softmax output): -sum(y * log_softmax(z)), gradient
// softmax(z) * sum(y) - y.
class CategoricalCrossentropy : public Loss {
 public:
  CategoricalCrossentropy(bool sparse, bool from_logits, float smoothing)
      : sparse_(sparse), from_logits_(from_logits), smoothing_(smoothing) {}
  bool fuses_with(Act act) const override { return !from_logits_ && act == Act::Softmax; }

  void check_target(const Shape& p, const Shape& t) const override {
    if (sparse_) {
      KS_CHECK(!p.empty(), "sparse_categorical_crossentropy expects an output with a class axis "
               "(the last axis). Received: an output of shape ", shape_str(prepend_batch(p)));
      Shape expect(p.begin(), p.end() - 1);
      Shape t_squeezed = t;
      if (!t_squeezed.empty() && t_squeezed.back() == 1 && t_squeezed.size() == p.size())
        t_squeezed.pop_back();
      KS_CHECK(t_squeezed == expect, "sparse_categorical_crossentropy expects integer labels of "
               "shape ", shape_str(prepend_batch(expect)), " for an output of shape ",
               shape_str(prepend_batch(p)), ". Received: labels of shape ",
               shape_str(prepend_batch(t)));
    } else {
      KS_CHECK(t == p, "categorical_crossentropy expects targets of the output's shape ",
               shape_str(prepend_batch(p)), " (one-hot encoded). Received: targets of shape ",
               shape_str(prepend_batch(t)),
               t.size() + 1 == p.size() || (t.size() == p.size() && !t.empty() && t.back() == 1)
                   ? ". For integer labels use `sparse_categorical_crossentropy`, or one-hot "
                     "encode them with `to_categorical`."
                   : ".");
    }
  }

  void check_target_values(const float* t, int64_t count, int64_t c) const override {
    if (!sparse_) return;
    for (int64_t r = 0; r < count; ++r) {
      const float v = t[r];
      KS_CHECK(v >= 0 && v < static_cast<float>(c) && v == std::floor(v),
               "Received a label value of ", v, " which is outside the valid range of [0, ", c,
               ") for sparse_categorical_crossentropy (labels must be integers)");
    }
  }

  void compute(const Tensor& pred, const Tensor* logits, const Tensor& target, const float* coef,
               float* per_sample, Tensor* grad) const override {
    const bool use_logits = from_logits_ || fused;
    const Tensor& src = (fused && logits) ? *logits : pred;
    const int64_t c = pred.dim(-1);
    const int64_t rows = c ? pred.numel() / c : 0;
    const int64_t n = pred.dim(0);
    const int64_t rows_per_sample = n ? rows / n : 0;
    if (grad) grad->resize(pred.shape(), pred.device());
    if (pred.device() == Device::CUDA) {  // labels were checked on the host (check_target_values)
#ifdef KERASETTE_WITH_CUDA
      cuda::categorical_crossentropy(src.data(), target.data(), coef, per_sample,
                                     grad ? grad->data() : nullptr, n, rows_per_sample, c, sparse_,
                                     use_logits, smoothing_);
      return;
#else
      no_cuda_build("categorical_crossentropy");
#endif
    }
    // Validate sparse labels first, so a bad label raises instead of reading out of bounds.
    check_target_values(target.data(), rows, c);
    parallel_for(n, chunk_for(n, std::max<int64_t>(1, 8192 / std::max<int64_t>(c, 1))),
                 [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        double acc = 0.0;
        for (int64_t rr = 0; rr < rows_per_sample; ++rr) {
          const int64_t r = i * rows_per_sample + rr;
          acc += row(src.data() + r * c, target.data() + (sparse_ ? r : r * c), c,
                     use_logits, grad ? grad->data() + r * c : nullptr,
                     coef[i] / static_cast<float>(rows_per_sample));
        }
        per_sample[i] = static_cast<float>(acc / static_cast<double>(rows_per_sample));
      }
    });
  }

 private:
  static Shape prepend_batch(const Shape& s) {
    Shape out{-1};
    out.insert(out.end(), s.begin(), s.end());
    return out;
  }
  float target_at(const float* t, int64_t j, int64_t c) const {
    const float y = sparse_ ? (static_cast<int64_t>(t[0]) == j ? 1.0f : 0.0f) : t[j];
    return y * (1.0f - smoothing_) + smoothing_ / static_cast<float>(c);
  }
  double row(const float* p, const float* t, int64_t c, bool use_logits, float* g,
             float scale) const {
    double loss = 0.0;
    if (use_logits) {
      float mx = p[0];
      for (int64_t j = 1; j < c; ++j) mx = std::fmax(mx, p[j]);
      double se = 0.0;
      for (int64_t j = 0; j < c; ++j) se += std::exp(static_cast<double>(p[j] - mx));
      const double lse = std::log(se) + mx;
      double ysum = 0.0;
      for (int64_t j = 0; j < c; ++j) {
        const float y = target_at(t, j, c);
        ysum += y;
        if (y != 0.0f) loss -= y * (p[j] - lse);
      }
      if (g)
        for (int64_t j = 0; j < c; ++j)
          g[j] = scale * static_cast<float>(std::exp(p[j] - lse) * ysum - target_at(t, j, c));
      return loss;
    }
    if (sparse_) {
      // Keras's rule for integer labels: clip each value to [eps, 1 - eps] first, then normalize,
      // loss = -sum_k y_k log(c_k / S) with S = sum_k c_k (its TensorFlow backend feeds log(c)
      // to a softmax). A value outside the clip range passes no gradient.
      double s = 0.0;
      for (int64_t j = 0; j < c; ++j) s += clampf(p[j], kEpsilon, 1.0f - kEpsilon);
      const double log_s = std::log(s);
      double ysum = 0.0;
      for (int64_t j = 0; j < c; ++j) {
        const float y = target_at(t, j, c);
        ysum += y;
        if (y != 0.0f) loss -= y * (std::log(clampf(p[j], kEpsilon, 1.0f - kEpsilon)) - log_s);
      }
      if (g)
        for (int64_t j = 0; j < c; ++j) {
          const float cj = clampf(p[j], kEpsilon, 1.0f - kEpsilon);
          g[j] = p[j] == cj ? scale * static_cast<float>(ysum / s - target_at(t, j, c) / cj)
                            : 0.0f;
        }
      return loss;
    }
    // One-hot targets, Keras's rule: normalize by the row's sum first, then clip.
    double s = 0.0;
    for (int64_t j = 0; j < c; ++j) s += p[j];
    const float inv_s = static_cast<float>(1.0 / s);
    double weighted = 0.0;  // sum_k y_k c'_k / c_k * q_k, the normalization term of the gradient
    for (int64_t j = 0; j < c; ++j) {
      const float q = p[j] * inv_s, qc = clampf(q, kEpsilon, 1.0f - kEpsilon);
      const float y = target_at(t, j, c);
      loss -= y * std::log(qc);
      if (q == qc) weighted += y;  // y_k / q_k * q_k
    }
    if (g)
      for (int64_t j = 0; j < c; ++j) {
        const float q = p[j] * inv_s, qc = clampf(q, kEpsilon, 1.0f - kEpsilon);
        const float y = target_at(t, j, c);
        const float direct = (q == qc) ? -y / q : 0.0f;
        g[j] = scale * inv_s * (direct + static_cast<float>(weighted));
      }
    return loss;
  }
  bool sparse_, from_logits_;
  float smoothing_;
};

}  // namespace

void Loss::check_target(const Shape& p, const Shape& t) const {
  KS_CHECK(shape_numel(p) == shape_numel(t), "Target and output shapes do not match: targets of "
           "per-sample shape ", shape_str(t), ", output of per-sample shape ", shape_str(p));
}

std::unique_ptr<Loss> make_loss(const std::string& kind, const Attrs& a) {
  const bool logits = a.get_bool("from_logits", false);
  const float smoothing = static_cast<float>(a.get_float("label_smoothing", 0.0));
  using L = ElementwiseLoss;
  static const std::pair<const char*, L> kElementwise[] = {
      {"mean_squared_error", L::MeanSquaredError},
      {"mean_absolute_error", L::MeanAbsoluteError},
      {"huber", L::Huber},
      {"mean_absolute_percentage_error", L::MeanAbsolutePercentageError},
      {"mean_squared_logarithmic_error", L::MeanSquaredLogarithmicError},
      {"poisson", L::Poisson},
      {"log_cosh", L::LogCosh},
      {"kl_divergence", L::KLDivergence},
      {"hinge", L::Hinge},
      {"squared_hinge", L::SquaredHinge},
  };
  for (const auto& [name, k] : kElementwise)
    if (kind == name)
      return std::make_unique<ElementwiseLossFn>(k, static_cast<float>(a.get_float("delta", 1.0)));
  if (kind == "binary_crossentropy") return std::make_unique<BinaryCrossentropy>(logits, smoothing);
  if (kind == "categorical_crossentropy")
    return std::make_unique<CategoricalCrossentropy>(false, logits, smoothing);
  if (kind == "sparse_categorical_crossentropy")
    return std::make_unique<CategoricalCrossentropy>(true, logits, 0.0f);
  if (auto loss = make_row_loss(kind, a)) return loss;
  fail("Unknown engine loss '", kind, "'");
}

}  // namespace kerasette

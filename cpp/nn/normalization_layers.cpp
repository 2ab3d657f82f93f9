// Normalization (Keras's preprocessing layer: fixed statistics) and LayerNormalization (per-sample
// statistics, learned gamma and beta).
//
// Both work on "groups": the trailing `keep` (Normalization) or `axes` (LayerNormalization) axes of
// each sample, flattened to K values, so the input is rows x K. The Python layers move whichever
// axes Keras names there or refuse them.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "kernels/layer_norm_row.h"
#include "nn/column_sums.h"
#include "nn/layer_registry.h"
#include "nn/shape_text.h"
#include "ops/device_ops.h"
#ifdef KERASETTE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace kerasette {

namespace {

// The trailing `count` axes of a per-sample shape; fails as `layer` when the input has fewer.
Shape trailing_axes(const Layer& layer, const Shape& in, int64_t count) {
  if (count < 0 || count > static_cast<int64_t>(in.size()))
    fail("Layer '", layer.name(), "': cannot keep the last ", count, " axes of an input of shape ",
         batch_shape_str(in));
  return Shape(in.end() - count, in.end());
}

}  // namespace

// Keras 3's Normalization: y = (x - mean) / max(sqrt(variance), epsilon), or with invert
// y = mean + x * max(sqrt(variance), epsilon); epsilon is Keras's backend epsilon, 1e-7. The
// statistics are the non-trainable weights mean, variance and count (count is only stored, as in
// Keras 3, whose adapt leaves it 0), or constants given as `mean`/`variance` attributes, in which
// case the layer has no weights. Nothing is learned: backward is dx = dy * d(y)/d(x).
class NormalizationLayer : public Layer {
 public:
  NormalizationLayer(const std::string& name, const Attrs& a)
      : Layer(name), keep_(a.get_int("keep", 1)), invert_(a.get_bool("invert", false)) {
    if (a.has("mean")) {
      for (const double v : a.get_floats("mean")) fixed_mean_.push_back(static_cast<float>(v));
      for (const double v : a.get_floats("variance")) fixed_var_.push_back(static_cast<float>(v));
      KS_CHECK(fixed_mean_.size() == fixed_var_.size() && !fixed_mean_.empty(), "Layer '", name,
               "': mean and variance need the same number of values");
    }
  }

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1) shape_error("expects exactly one input");
    const Shape stat_shape = trailing_axes(*this, in[0], keep_);
    const int64_t K = shape_numel(stat_shape);
    if (!fixed_mean_.empty()) {
      if (static_cast<int64_t>(fixed_mean_.size()) != K)
        shape_error(str_cat("mean and variance hold ", fixed_mean_.size(),
                            " values; the input of shape ", batch_shape_str(in[0]), " needs ", K));
    } else if (params_.empty()) {
      add_param("mean", stat_shape, false);
      add_param("variance", stat_shape, false);
      add_param("count", {}, false);
    } else if (params_[0].value.shape() != stat_shape) {
      shape_error(str_cat("input of shape ", batch_shape_str(in[0]),
                          " does not fit statistics of shape ",
                          shape_str(params_[0].value.shape())));
    }
    return in[0];
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState&,
               const StepContext&) override {
    const Tensor& x = *in[0];
    out.resize(x.shape(), x.device());
    apply(x, out, false);
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState&, const StepContext&) override {
    if (!din[0]) return;
    din[0]->resize(in[0]->shape(), in[0]->device());
    apply(dout, *din[0], true);
  }

  bool supports(Device) const override { return true; }

 private:
  // The statistics on `device`: the weights (which adapt and set_weights change, so they are
  // read at each call), or the constant attributes, copied there once.
  std::pair<const float*, const float*> statistics(Device device) {
    if (fixed_mean_.empty()) return {params_[0].value.data(), params_[1].value.data()};
    if (!fixed_stats_.defined() || fixed_stats_.device() != device) {
      const int64_t K = static_cast<int64_t>(fixed_mean_.size());
      Tensor both({2, K});
      std::copy(fixed_mean_.begin(), fixed_mean_.end(), both.data());
      std::copy(fixed_var_.begin(), fixed_var_.end(), both.data() + K);
      fixed_stats_ = device == Device::CPU ? both : both.to(device);
    }
    return {fixed_stats_.data(), fixed_stats_.data() + fixed_stats_.dim(1)};
  }

  // Forward: y = (x - mean) * (1 / s), or with invert y = x * s + mean, where
  // s = max(sqrt(variance), epsilon) per group value; backward: dx = dy * (1 / s), or dy * s.
  // Subtracting the mean before scaling keeps the precision of values far from zero.
  void apply(const Tensor& x, Tensor& y, bool backward) {
    constexpr float kKerasEpsilon = 1e-7f;
    const auto [mean, var] = statistics(x.device());
    const int64_t n = x.numel();
    const int64_t K = fixed_mean_.empty() ? params_[0].value.numel()
                                          : static_cast<int64_t>(fixed_mean_.size());
    if (x.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      return cuda::normalization_apply(x.data(), y.data(), n, mean, var, K, kKerasEpsilon,
                                       invert_, backward);
#else
      no_cuda_build("Normalization");
#endif
    }
    scale_.resize(static_cast<size_t>(K));
    for (int64_t j = 0; j < K; ++j) {
      const float s = std::max(std::sqrt(var[j]), kKerasEpsilon);
      scale_[static_cast<size_t>(j)] = invert_ ? s : 1.0f / s;
    }
    const float* xp = x.data();
    const float* ap = scale_.data();
    const float* mp = backward ? nullptr : mean;
    float* yp = y.data();
    const bool invert = invert_;
    const int64_t rows = K ? n / K : 0;
    parallel_for(rows, chunk_for(rows, std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(K, 1))),
                 [&](int64_t r0, int64_t r1) {
                   for (int64_t r = r0; r < r1; ++r) {
                     const float* xr = xp + r * K;
                     float* yr = yp + r * K;
                     if (!mp)
                       for (int64_t j = 0; j < K; ++j) yr[j] = xr[j] * ap[j];
                     else if (invert)
                       for (int64_t j = 0; j < K; ++j) yr[j] = xr[j] * ap[j] + mp[j];
                     else
                       for (int64_t j = 0; j < K; ++j) yr[j] = (xr[j] - mp[j]) * ap[j];
                   }
                 });
  }

  int64_t keep_;
  bool invert_;
  std::vector<float> fixed_mean_, fixed_var_;
  Tensor fixed_stats_;         // the constants on the device the layer last ran on: mean; variance
  std::vector<float> scale_;   // CPU: 1 / s, or s with invert, per group value
};
KS_REGISTER_LAYER("normalization", NormalizationLayer);

// Keras's LayerNormalization: each sample's group of K values (the trailing `axes` axes) is
// normalized with its own mean and biased variance, y = (x - mean) / sqrt(var + epsilon) * gamma
// + beta, with gamma and beta of the group's shape. Row statistics are two-pass sums in double;
// gamma and beta gradients are column sums in a thread-count independent order. The GPU runs the
// same per-element formulas (kernels/layer_norm_row.h) in kernels/cuda/normalization.cu.
class LayerNormLayer : public Layer {
 public:
  LayerNormLayer(const std::string& name, const Attrs& a)
      : Layer(name),
        axes_(a.get_int("axes", 1)),
        epsilon_(static_cast<float>(a.get_float("epsilon", 1e-3))),
        center_(a.get_bool("center", true)),
        scale_(a.get_bool("scale", true)) {}

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1) shape_error("expects exactly one input");
    const Shape group = trailing_axes(*this, in[0], axes_);
    if (axes_ < 1) shape_error("needs at least one axis to normalize over");
    if (params_.empty()) {
      if (scale_) gamma_ = static_cast<int>(index_of(add_param("gamma", group)));
      if (center_) beta_ = static_cast<int>(index_of(add_param("beta", group)));
    } else if (params_[0].value.shape() != group) {
      shape_error(str_cat("input of shape ", batch_shape_str(in[0]),
                          " does not fit gamma/beta of shape ",
                          shape_str(params_[0].value.shape())));
    }
    K_ = shape_numel(group);
    return in[0];
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState& st,
               const StepContext&) override {
    const Tensor& x = *in[0];
    const int64_t K = K_, rows = K ? x.numel() / K : 0;
    out.resize(x.shape(), x.device());
    if (st.saved.size() < 2) st.saved.resize(2);
    Tensor& mean = st.saved[0];
    Tensor& inv = st.saved[1];
    mean.resize({rows}, x.device());
    inv.resize({rows}, x.device());
    const float* g = gamma_ >= 0 ? params_[gamma_].value.data() : nullptr;
    const float* b = beta_ >= 0 ? params_[beta_].value.data() : nullptr;
    if (x.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      return cuda::layer_norm_forward(x.data(), g, b, rows, K, epsilon_, out.data(), mean.data(),
                                      inv.data());
#else
      no_cuda_build("LayerNormalization");
#endif
    }
    const float* xp = x.data();
    float* yp = out.data();
    parallel_for(rows, chunk_for(rows, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(K, 1))),
                 [&](int64_t r0, int64_t r1) {
                   for (int64_t r = r0; r < r1; ++r) {
                     const float* xr = xp + r * K;
                     double s = 0.0, sq = 0.0;
                     for (int64_t j = 0; j < K; ++j) s += xr[j];
                     const double mu = s / static_cast<double>(K);
                     for (int64_t j = 0; j < K; ++j) sq += (xr[j] - mu) * (xr[j] - mu);
                     const float m = static_cast<float>(mu);
                     const float iv = layer_norm_inv_std(sq, K, epsilon_);
                     mean.data()[r] = m;
                     inv.data()[r] = iv;
                     float* yr = yp + r * K;
                     for (int64_t j = 0; j < K; ++j)
                       yr[j] = layer_norm_value(layer_norm_xhat(xr[j], m, iv), g ? g[j] : 1.0f,
                                                b ? b[j] : 0.0f);
                   }
                 });
  }

  // With xhat = (x - mean) * inv and g = dy * gamma, per row:
  // dx = inv * (g - mean(g) - xhat * mean(g * xhat)); dgamma = sum_rows dy * xhat; dbeta = sum dy.
  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState& st, const StepContext& ctx) override {
    const Tensor& x = *in[0];
    const int64_t K = K_, rows = K ? x.numel() / K : 0;
    const float* xp = x.data();
    const float* dy = dout.data();
    const float* mean = st.saved[0].data();
    const float* inv = st.saved[1].data();
    const float* gamma = gamma_ >= 0 ? params_[gamma_].value.data() : nullptr;
    if (x.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      float* dgamma = trainable && gamma_ >= 0 ? params_[gamma_].grad.data() : nullptr;
      float* dbeta = trainable && beta_ >= 0 ? params_[beta_].grad.data() : nullptr;
      if (din[0]) din[0]->resize(x.shape(), x.device());
      return cuda::layer_norm_backward(xp, dy, mean, inv, gamma, rows, K, dgamma, dbeta,
                                       ctx.accumulate_param_grads,
                                       din[0] ? din[0]->data() : nullptr);
#else
      no_cuda_build("LayerNormalization");
#endif
    }
    if (trainable) {
      const bool acc = ctx.accumulate_param_grads;
      if (gamma_ >= 0) {
        std::vector<double> sum;
        column_sums(rows, K, sum, [&](int64_t r, int64_t j) {
          return double(dy[r * K + j]) * layer_norm_xhat(xp[r * K + j], mean[r], inv[r]);
        });
        float* gg = params_[gamma_].grad.data();
        for (int64_t j = 0; j < K; ++j) gg[j] = (acc ? gg[j] : 0.0f) + static_cast<float>(sum[j]);
      }
      if (beta_ >= 0) {
        std::vector<double> sum;
        column_sums(rows, K, sum, [&](int64_t r, int64_t j) { return double(dy[r * K + j]); });
        float* gb = params_[beta_].grad.data();
        for (int64_t j = 0; j < K; ++j) gb[j] = (acc ? gb[j] : 0.0f) + static_cast<float>(sum[j]);
      }
    }
    if (!din[0]) return;
    din[0]->resize(x.shape());
    float* dx = din[0]->data();
    parallel_for(rows, chunk_for(rows, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(K, 1))),
                 [&](int64_t r0, int64_t r1) {
                   for (int64_t r = r0; r < r1; ++r) {
                     const float* xr = xp + r * K;
                     const float* dyr = dy + r * K;
                     double sg = 0.0, sgx = 0.0;
                     for (int64_t j = 0; j < K; ++j) {
                       const double gj = double(dyr[j]) * (gamma ? gamma[j] : 1.0f);
                       sg += gj;
                       sgx += gj * layer_norm_xhat(xr[j], mean[r], inv[r]);
                     }
                     const float mg = static_cast<float>(sg / K);
                     const float mgx = static_cast<float>(sgx / K);
                     float* dxr = dx + r * K;
                     for (int64_t j = 0; j < K; ++j)
                       dxr[j] =
                           layer_norm_input_grad(inv[r], dyr[j] * (gamma ? gamma[j] : 1.0f),
                                                 layer_norm_xhat(xr[j], mean[r], inv[r]), mg, mgx);
                   }
                 });
  }

  bool supports(Device) const override { return true; }

 private:
  size_t index_of(const Param& p) const { return static_cast<size_t>(&p - params_.data()); }

  int64_t axes_;
  float epsilon_;
  bool center_, scale_;
  int gamma_ = -1, beta_ = -1;
  int64_t K_ = 1;
};
KS_REGISTER_LAYER("layer_normalization", LayerNormLayer);

}  // namespace kerasette

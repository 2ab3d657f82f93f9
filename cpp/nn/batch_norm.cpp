// BatchNormalization over the last axis: y = gamma * (x - mean) / sqrt(var + epsilon) + beta.
//
// Training mode (a training step on a trainable layer) normalizes with the batch statistics over
// every axis but the last, using the biased variance, and updates
// moving = moving * momentum + batch * (1 - momentum), as Keras 3 does. Inference mode (predict,
// evaluate, or trainable = False: Keras runs a frozen BatchNormalization in inference mode) uses
// the moving statistics. Per-channel sums are accumulated in double over fixed chunks of rows and
// combined in chunk order: the same bits on any thread count. On the GPU the same formulas run in
// kernels/cuda/normalization.cu.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "nn/column_sums.h"
#include "nn/layer_registry.h"
#include "nn/shape_text.h"
#include "ops/device_ops.h"
#ifdef KERASETTE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace kerasette {

class BatchNormLayer : public Layer {
 public:
  BatchNormLayer(const std::string& name, const Attrs& a)
      : Layer(name),
        momentum_(static_cast<float>(a.get_float("momentum", 0.99))),
        epsilon_(static_cast<float>(a.get_float("epsilon", 1e-3))),
        center_(a.get_bool("center", true)),
        scale_(a.get_bool("scale", true)) {}

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1 || in[0].empty())
      shape_error(str_cat("expected an input of rank >= 2 (batch included), got shape ",
                          in.empty() ? std::string("none") : batch_shape_str(in[0])));
    const int64_t C = in[0].back();
    if (params_.empty()) {
      // Keras's weight order: gamma, beta (trainable), then moving_mean, moving_variance.
      if (scale_) gamma_ = index_of(add_param("gamma", {C}));
      if (center_) beta_ = index_of(add_param("beta", {C}));
      mean_ = index_of(add_param("moving_mean", {C}, false));
      var_ = index_of(add_param("moving_variance", {C}, false));
    } else if (params_[mean_].value.dim(0) != C) {
      shape_error(str_cat("input of shape ", batch_shape_str(in[0]), " has ", C,
                          " channels but the layer was built for ", params_[mean_].value.dim(0)));
    }
    return in[0];
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState& st,
               const StepContext& ctx) override {
    const Tensor& x = *in[0];
    const int64_t C = x.dim(-1), rows = C ? x.numel() / C : 0;
    out.resize(x.shape(), x.device());
    if (st.saved.size() < 2) st.saved.resize(2);
    Tensor& mean = st.saved[0];
    Tensor& inv_std = st.saved[1];
    mean.resize({C}, x.device());
    inv_std.resize({C}, x.device());
    if (x.device() == Device::CUDA) return forward_cuda(x, out, mean, inv_std, ctx, rows, C);
    const float* xp = x.data();
    if (ctx.training && trainable && rows > 0) {
      std::vector<double> s, sq;
      column_sums(rows, C, s, [&](int64_t r, int64_t j) { return double(xp[r * C + j]); });
      for (int64_t j = 0; j < C; ++j) s[j] /= static_cast<double>(rows);
      column_sums(rows, C, sq, [&](int64_t r, int64_t j) {
        const double d = xp[r * C + j] - s[j];
        return d * d;
      });
      float* mm = params_[mean_].value.data();
      float* mv = params_[var_].value.data();
      for (int64_t j = 0; j < C; ++j) {
        const double var = sq[j] / static_cast<double>(rows);  // biased, as Keras
        mean.data()[j] = static_cast<float>(s[j]);
        inv_std.data()[j] = static_cast<float>(1.0 / std::sqrt(var + epsilon_));
        mm[j] = mm[j] * momentum_ + static_cast<float>(s[j]) * (1.0f - momentum_);
        mv[j] = mv[j] * momentum_ + static_cast<float>(var) * (1.0f - momentum_);
      }
    } else {
      const float* mm = params_[mean_].value.data();
      const float* mv = params_[var_].value.data();
      for (int64_t j = 0; j < C; ++j) {
        mean.data()[j] = mm[j];
        inv_std.data()[j] = 1.0f / std::sqrt(mv[j] + epsilon_);
      }
    }
    // y = x * a + b per channel.
    std::vector<float> a(C), b(C);
    for (int64_t j = 0; j < C; ++j) {
      a[j] = inv_std.data()[j] * (gamma_ >= 0 ? params_[gamma_].value.data()[j] : 1.0f);
      b[j] = (beta_ >= 0 ? params_[beta_].value.data()[j] : 0.0f) - mean.data()[j] * a[j];
    }
    float* yp = out.data();
    parallel_for(rows, chunk_for(rows, 1024), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t j = 0; j < C; ++j) yp[r * C + j] = xp[r * C + j] * a[j] + b[j];
    });
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState& st, const StepContext& ctx) override {
    const Tensor& x = *in[0];
    const int64_t C = x.dim(-1), rows = C ? x.numel() / C : 0;
    if (x.device() == Device::CUDA) return backward_cuda(x, dout, din[0], st, ctx, rows, C);
    const float* xp = x.data();
    const float* dy = dout.data();
    const float* mean = st.saved[0].data();
    const float* inv = st.saved[1].data();
    const bool batch_stats = ctx.training && trainable;
    std::vector<double> sdy, sdyx;  // sum(dy), sum(dy * xhat) per channel
    const bool need_sums = batch_stats || trainable;
    if (need_sums) {
      column_sums(rows, C, sdy, [&](int64_t r, int64_t j) { return double(dy[r * C + j]); });
      column_sums(rows, C, sdyx, [&](int64_t r, int64_t j) {
        return double(dy[r * C + j]) * (double(xp[r * C + j]) - mean[j]) * inv[j];
      });
    }
    if (trainable) {
      const bool acc = ctx.accumulate_param_grads;
      if (gamma_ >= 0) {
        float* g = params_[gamma_].grad.data();
        for (int64_t j = 0; j < C; ++j) g[j] = (acc ? g[j] : 0.0f) + static_cast<float>(sdyx[j]);
      }
      if (beta_ >= 0) {
        float* g = params_[beta_].grad.data();
        for (int64_t j = 0; j < C; ++j) g[j] = (acc ? g[j] : 0.0f) + static_cast<float>(sdy[j]);
      }
    }
    if (!din[0]) return;
    din[0]->resize(x.shape());
    float* dx = din[0]->data();
    std::vector<float> k(C), mdy(C, 0.0f), mdyx(C, 0.0f);
    for (int64_t j = 0; j < C; ++j) {
      k[j] = inv[j] * (gamma_ >= 0 ? params_[gamma_].value.data()[j] : 1.0f);
      if (batch_stats && rows > 0) {
        mdy[j] = static_cast<float>(sdy[j] / rows);
        mdyx[j] = static_cast<float>(sdyx[j] / rows);
      }
    }
    // Batch statistics: dx = gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat));
    // moving statistics are constants: dx = gamma * inv_std * dy.
    parallel_for(rows, chunk_for(rows, 1024), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t j = 0; j < C; ++j) {
          const float xhat = (xp[r * C + j] - mean[j]) * inv[j];
          dx[r * C + j] = k[j] * (dy[r * C + j] - mdy[j] - xhat * mdyx[j]);
        }
    });
  }

  bool supports(Device) const override { return true; }

 private:
  int index_of(const Param& p) const { return static_cast<int>(&p - params_.data()); }
  const float* param_or_null(int i) const { return i >= 0 ? params_[i].value.data() : nullptr; }

  void forward_cuda(const Tensor& x, Tensor& out, Tensor& mean, Tensor& inv_std,
                    const StepContext& ctx, int64_t rows, int64_t C) {
#ifdef KERASETTE_WITH_CUDA
    if (ctx.training && trainable && rows > 0)
      cuda::batch_norm_stats(x.data(), rows, C, momentum_, epsilon_, mean.data(), inv_std.data(),
                             params_[mean_].value.data(), params_[var_].value.data());
    else
      cuda::batch_norm_moving(params_[mean_].value.data(), params_[var_].value.data(), C,
                              epsilon_, mean.data(), inv_std.data());
    cuda::batch_norm_apply(x.data(), mean.data(), inv_std.data(), param_or_null(gamma_),
                           param_or_null(beta_), out.data(), rows, C);
#else
    (void)x, (void)out, (void)mean, (void)inv_std, (void)ctx, (void)rows, (void)C;
    no_cuda_build("BatchNormalization");
#endif
  }

  void backward_cuda(const Tensor& x, const Tensor& dout, Tensor* dx, NodeState& st,
                     const StepContext& ctx, int64_t rows, int64_t C) {
#ifdef KERASETTE_WITH_CUDA
    float* dgamma = trainable && gamma_ >= 0 ? params_[gamma_].grad.data() : nullptr;
    float* dbeta = trainable && beta_ >= 0 ? params_[beta_].grad.data() : nullptr;
    if (dx) dx->resize(x.shape(), x.device());
    if (!dgamma && !dbeta && !dx) return;
    cuda::batch_norm_backward(x.data(), dout.data(), st.saved[0].data(), st.saved[1].data(),
                              param_or_null(gamma_), rows, C, ctx.training && trainable, dgamma,
                              dbeta, ctx.accumulate_param_grads, dx ? dx->data() : nullptr);
#else
    (void)x, (void)dout, (void)dx, (void)st, (void)ctx, (void)rows, (void)C;
    no_cuda_build("BatchNormalization");
#endif
  }

  float momentum_, epsilon_;
  bool center_, scale_;
  int gamma_ = -1, beta_ = -1, mean_ = -1, var_ = -1;
};
KS_REGISTER_LAYER("batch_normalization", BatchNormLayer);

}  // namespace kerasette

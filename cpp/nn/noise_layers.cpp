// Regularization layers that perturb their input in training and are the identity at inference:
// GaussianNoise, GaussianDropout, SpatialDropout (whole channels), and Identity (also the engine
// part of ActivityRegularization, whose penalty the graph adds from the layer's activity_l1/l2).
//
// Every random value is a pure function of (seed, step, index) drawn from the Philox streams of
// core/rng.h, so a seeded layer gives the same numbers on any thread count, and on the GPU: its
// kernels draw the same counters through the same transforms (core/philox.h).
#include <algorithm>
#include <cmath>

#include "core/parallel.h"
#include "core/rng.h"
#include "nn/layer_registry.h"
#include "nn/shape_text.h"
#include "ops/device_ops.h"
#ifdef KERASETTE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace kerasette {

namespace {

// t = N(mean, stddev) values, element i the i-th of rng_fill_normal(seed, stream).
void fill_normal(Tensor& t, float mean, float stddev, uint64_t seed, uint64_t stream) {
  if (t.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
    return cuda::normal_fill(t.data(), t.numel(), mean, stddev, seed, stream);
#else
    no_cuda_build("GaussianNoise/GaussianDropout");
#endif
  }
  rng_fill_normal(t.data(), t.numel(), seed, stream, mean, stddev);
}

// mask[i] = scale where uniform i of (seed, stream) is >= rate, else 0: Dropout's mask.
void fill_dropout_mask(Tensor& mask, float rate, float scale, uint64_t seed, uint64_t stream) {
  const int64_t n = mask.numel();
  if (mask.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
    return cuda::dropout_forward(nullptr, nullptr, mask.data(), n, rate, scale, seed, stream);
#else
    no_cuda_build("SpatialDropout");
#endif
  }
  float* mp = mask.data();
  rng_fill_uniform(mp, n, seed, stream, 0.0f, 1.0f);
  for (int64_t i = 0; i < n; ++i) mp[i] = mp[i] >= rate ? scale : 0.0f;
}

// y = x * m elementwise (the backward of every multiplicative noise layer too).
void multiply(const Tensor& x, const Tensor& m, Tensor& y) {
  const int64_t n = x.numel();
  y.resize(x.shape(), x.device());
  if (x.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
    return cuda::mul(x.data(), m.data(), y.data(), n);
#else
    no_cuda_build("GaussianDropout");
#endif
  }
  const float* xp = x.data();
  const float* mp = m.data();
  float* yp = y.data();
  parallel_for(n, 1 << 15, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) yp[i] = xp[i] * mp[i];
  });
}

// y[r, t, c] = x[r, t, c] * m[r, c]: one factor per (sample, channel), channels last.
void multiply_channels(const Tensor& x, const Tensor& m, Tensor& y) {
  const int64_t samples = x.dim(0), channels = x.dim(-1);
  const int64_t steps = samples * channels ? x.numel() / (samples * channels) : 0;
  y.resize(x.shape(), x.device());
  if (x.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
    return cuda::mul_channels(x.data(), m.data(), y.data(), samples, steps, channels);
#else
    no_cuda_build("SpatialDropout");
#endif
  }
  const float* xp = x.data();
  const float* mp = m.data();
  float* yp = y.data();
  parallel_for(samples * steps, chunk_for(samples * steps, std::max<int64_t>(1, 4096 / channels)),
               [&](int64_t b, int64_t e) {
                 for (int64_t i = b; i < e; ++i) {
                   const float* mr = mp + (i / steps) * channels;
                   for (int64_t c = 0; c < channels; ++c)
                     yp[i * channels + c] = xp[i * channels + c] * mr[c];
                 }
               });
}

// The layers below draw only in training, on their input's device, and pass gradients straight
// through at inference.
class NoiseLayer : public Layer {
 public:
  NoiseLayer(const std::string& name, const Attrs& a)
      : Layer(name), seed_(static_cast<uint64_t>(a.get_int("seed", 0))) {}

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1) shape_error("expects exactly one input");
    return in[0];
  }
  bool supports(Device) const override { return true; }

 protected:
  // Whether this call perturbs (training with a non-zero strength).
  virtual bool active(const StepContext& ctx) const = 0;
  void pass_through(const Tensor& x, Tensor& out) const {
    out.resize(x.shape(), x.device());
    out.copy_from(x);
  }
  uint64_t stream(const StepContext& ctx) const { return mix_seed(seed_, ctx.step); }
  uint64_t seed_;
};

}  // namespace

// Keras's GaussianNoise: y = x + N(0, stddev) in training. Additive: dx = dy.
class GaussianNoiseLayer : public NoiseLayer {
 public:
  GaussianNoiseLayer(const std::string& name, const Attrs& a)
      : NoiseLayer(name, a), stddev_(static_cast<float>(a.get_float("stddev", 0.0))) {}

  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState&,
               const StepContext& ctx) override {
    const Tensor& x = *in[0];
    if (!active(ctx)) return pass_through(x, out);
    out.resize(x.shape(), x.device());
    fill_normal(out, 0.0f, stddev_, seed_, stream(ctx));
    axpy_on(x.device(), x.numel(), 1.0f, x.data(), out.data());  // 1 * x + noise: exactly x + noise
  }
  void backward(const std::vector<const Tensor*>&, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState&, const StepContext&) override {
    if (din[0]) *din[0] = dout;  // shares dout's storage: the gradient passes unchanged
  }

 private:
  bool active(const StepContext& ctx) const override { return ctx.training && stddev_ > 0.0f; }
  float stddev_;
};
KS_REGISTER_LAYER("gaussian_noise", GaussianNoiseLayer);

// Keras's GaussianDropout: y = x * N(1, sqrt(rate / (1 - rate))) in training; dx = dy * noise.
class GaussianDropoutLayer : public NoiseLayer {
 public:
  GaussianDropoutLayer(const std::string& name, const Attrs& a)
      : NoiseLayer(name, a), rate_(static_cast<float>(a.get_float("rate", 0.0))) {}

  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState& st,
               const StepContext& ctx) override {
    const Tensor& x = *in[0];
    // Keras's layer divides by 1 - rate in training and raises there (ZeroDivisionError).
    if (ctx.training && rate_ >= 1.0f)
      shape_error(
          "GaussianDropout with rate=1 cannot run in training: the noise's standard deviation "
          "sqrt(rate / (1 - rate)) is infinite. Expected a rate below 1.");
    if (!active(ctx)) return pass_through(x, out);
    if (st.saved.empty()) st.saved.resize(1);
    Tensor& noise = st.saved[0];
    noise.resize(x.shape(), x.device());
    fill_normal(noise, 1.0f, std::sqrt(rate_ / (1.0f - rate_)), seed_, stream(ctx));
    multiply(x, noise, out);
  }
  void backward(const std::vector<const Tensor*>&, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState& st, const StepContext& ctx) override {
    if (!din[0]) return;
    if (!active(ctx)) {
      *din[0] = dout;
      return;
    }
    multiply(dout, st.saved[0], *din[0]);
  }

 private:
  // Keras skips rate 0; forward refuses rate 1 in training.
  bool active(const StepContext& ctx) const override { return ctx.training && rate_ > 0.0f; }
  float rate_;
};
KS_REGISTER_LAYER("gaussian_dropout", GaussianDropoutLayer);

// SpatialDropout1D/2D, channels last: Dropout whose mask has one entry per (sample, channel), so a
// whole feature map is kept (scaled by 1 / (1 - rate), as Keras's dropout) or zeroed. The Python
// layer moves channels_first inputs' channels last around it.
class SpatialDropoutLayer : public NoiseLayer {
 public:
  SpatialDropoutLayer(const std::string& name, const Attrs& a)
      : NoiseLayer(name, a), rate_(static_cast<float>(a.get_float("rate", 0.0))) {}

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1 || in[0].size() < 2)
      shape_error(str_cat("expects one input with steps and channels, got shape ",
                          in.empty() ? std::string("none") : batch_shape_str(in[0])));
    return in[0];
  }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState& st,
               const StepContext& ctx) override {
    const Tensor& x = *in[0];
    if (!active(ctx)) return pass_through(x, out);
    if (st.saved.empty()) st.saved.resize(1);
    Tensor& mask = st.saved[0];
    mask.resize({x.dim(0), x.dim(-1)}, x.device());
    fill_dropout_mask(mask, rate_, rate_ >= 1.0f ? 0.0f : 1.0f / (1.0f - rate_), seed_,
                      stream(ctx));
    multiply_channels(x, mask, out);
  }
  void backward(const std::vector<const Tensor*>&, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState& st, const StepContext& ctx) override {
    if (!din[0]) return;
    if (!active(ctx)) {
      *din[0] = dout;
      return;
    }
    multiply_channels(dout, st.saved[0], *din[0]);
  }

 private:
  bool active(const StepContext& ctx) const override { return ctx.training && rate_ > 0.0f; }
  float rate_;
};
KS_REGISTER_LAYER("spatial_dropout", SpatialDropoutLayer);

// Identity: the output shares the input's storage, on any device.
class IdentityLayer : public Layer {
 public:
  IdentityLayer(const std::string& name, const Attrs&) : Layer(name) {}

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1) shape_error("expects exactly one input");
    return in[0];
  }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState&,
               const StepContext&) override {
    out = *in[0];
  }
  void backward(const std::vector<const Tensor*>&, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState&, const StepContext&) override {
    if (din[0]) *din[0] = dout;
  }
  bool supports(Device) const override { return true; }
};
KS_REGISTER_LAYER("identity", IdentityLayer);

}  // namespace kerasette

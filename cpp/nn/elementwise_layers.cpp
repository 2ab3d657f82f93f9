// Layers without weights that act elementwise or only on shapes: Activation (and the ReLU, LeakyReLU,
// ELU, Softmax layers, which are activations with a parameter), Rescaling, Dropout, Reshape/Flatten.
#include <algorithm>
#include <cmath>

#include "core/parallel.h"
#include "core/rng.h"
#include "kernels/relu_layer.h"
#include "nn/layer_registry.h"
#include "ops/device_ops.h"
#ifdef KERASETTE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace kerasette {

class ActivationLayer : public Layer {
 public:
  ActivationLayer(const std::string& name, const Attrs& a)
      : Layer(name),
        act_(parse_activation(a.get_str("activation", "linear"))),
        alpha_(activation_alpha(act_, a)) {}

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1) shape_error("expects exactly one input");
    return in[0];
  }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState&,
               const StepContext&) override {
    activation_forward(act_, alpha_, *in[0], out);
  }
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState& st, const StepContext&) override {
    if (!din[0]) return;
    if (st.loss_fused) {
      din[0]->resize(dout.shape(), dout.device());
      din[0]->copy_from(dout);
    } else {
      activation_backward(act_, alpha_, *in[0], out, dout, *din[0]);
    }
  }
  Act output_activation() const override { return act_; }
  const Tensor* output_logits(const std::vector<const Tensor*>& in,
                              const NodeState&) const override {
    return in[0];
  }
  bool supports(Device) const override { return true; }

 private:
  Act act_;
  float alpha_;
};
KS_REGISTER_LAYER("activation", ActivationLayer);

// Keras's ReLU layer: y = x > threshold ? min(x, max_value) : negative_slope * (x - threshold),
// with Keras's gradients at the kinks (kernels/relu_layer.h).
class ReluLayer : public Layer {
 public:
  ReluLayer(const std::string& name, const Attrs& a)
      : Layer(name),
        max_value_(static_cast<float>(a.get_float("max_value", INFINITY))),
        slope_(static_cast<float>(a.get_float("negative_slope", 0.0))),
        threshold_(static_cast<float>(a.get_float("threshold", 0.0))),
        kinks_{max_value_, slope_, threshold_,
               slope_ != 0.0f && threshold_ == 0.0f && std::isinf(max_value_),
               threshold_ == 0.0f && max_value_ == 6.0f} {}

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1) shape_error("expects exactly one input");
    return in[0];
  }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState&,
               const StepContext&) override {
    const Tensor& x = *in[0];
    out.resize(x.shape(), x.device());
    if (x.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      return cuda::relu_layer_forward(x.data(), out.data(), x.numel(), kinks_);
#else
      no_cuda_build("ReLU");
#endif
    }
    const float* xp = x.data();
    float* yp = out.data();
    parallel_for(x.numel(), 1 << 15, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const float v = xp[i];
        yp[i] = relu_layer_value(kinks_, v);
      }
    });
  }
  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState&, const StepContext&) override {
    if (!din[0]) return;
    const Tensor& x = *in[0];
    din[0]->resize(x.shape(), x.device());
    if (x.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      return cuda::relu_layer_backward(x.data(), dout.data(), din[0]->data(), x.numel(),
                                       kinks_);
#else
      no_cuda_build("ReLU");
#endif
    }
    const float* xp = x.data();
    const float* dy = dout.data();
    float* dx = din[0]->data();
    parallel_for(x.numel(), 1 << 15, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const float v = xp[i];
        dx[i] = relu_layer_slope(kinks_, v) * dy[i];
      }
    });
  }
  bool supports(Device) const override { return true; }

 private:
  float max_value_, slope_, threshold_;
  ReluLayerKinks kinks_;
};
KS_REGISTER_LAYER("relu", ReluLayer);

// Inverted dropout: kept units are scaled by 1 / (1 - rate) in training; identity at inference.
// The mask of element i at step t is a pure function of (seed, t, i): reproducible on any thread
// count.
class DropoutLayer : public Layer {
 public:
  DropoutLayer(const std::string& name, const Attrs& a)
      : Layer(name),
        rate_(static_cast<float>(a.get_float("rate", 0.5))),
        seed_(static_cast<uint64_t>(a.get_int("seed", 0))) {}

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1) shape_error("expects exactly one input");
    return in[0];
  }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState& st,
               const StepContext& ctx) override {
    const Tensor& x = *in[0];
    out.resize(x.shape(), x.device());
    if (!ctx.training || rate_ <= 0.0f) {
      out.copy_from(x);
      return;
    }
    if (st.saved.empty()) st.saved.resize(1);
    Tensor& mask = st.saved[0];
    mask.resize(x.shape(), x.device());
    const float scale = rate_ >= 1.0f ? 0.0f : 1.0f / (1.0f - rate_);
    const uint64_t stream = mix_seed(seed_, ctx.step);
    if (x.device() == Device::CUDA) {  // the same Philox counters: the same mask, bit for bit
#ifdef KERASETTE_WITH_CUDA
      return cuda::dropout_forward(x.data(), out.data(), mask.data(), x.numel(), rate_, scale,
                                   seed_, stream);
#else
      no_cuda_build("Dropout");
#endif
    }
    const float* xp = x.data();
    float* yp = out.data();
    float* mp = mask.data();
    const int64_t n = x.numel();
    // Chunks are multiples of 4 elements so each Philox block is drawn whole.
    parallel_for((n + 3) / 4, 4096, [&](int64_t b0, int64_t b1) {
      uint32_t r[4];
      for (int64_t b = b0; b < b1; ++b) {
        philox4x32(seed_, stream, static_cast<uint64_t>(b), r);
        for (int j = 0; j < 4; ++j) {
          const int64_t i = b * 4 + j;
          if (i >= n) break;
          const float u = philox_unit(r[j]);
          mp[i] = u >= rate_ ? scale : 0.0f;
          yp[i] = xp[i] * mp[i];
        }
      }
    });
  }
  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState& st, const StepContext& ctx) override {
    if (!din[0]) return;
    din[0]->resize(in[0]->shape(), in[0]->device());
    if (!ctx.training || rate_ <= 0.0f) {
      din[0]->copy_from(dout);
      return;
    }
    if (dout.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      return cuda::mul(dout.data(), st.saved[0].data(), din[0]->data(), dout.numel());
#else
      no_cuda_build("Dropout");
#endif
    }
    const float* mp = st.saved[0].data();
    const float* dy = dout.data();
    float* dx = din[0]->data();
    const int64_t n = dout.numel();
    parallel_for(n, 1 << 15, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) dx[i] = dy[i] * mp[i];
    });
  }
  bool supports(Device) const override { return true; }

 private:
  float rate_;
  uint64_t seed_;
};
KS_REGISTER_LAYER("dropout", DropoutLayer);

// Rescaling: y = x * scale + offset, scale and offset each one value or one per last-axis entry.
class RescalingLayer : public Layer {
 public:
  RescalingLayer(const std::string& name, const Attrs& a) : Layer(name) {
    for (const double v : a.get_floats("scale")) scale_.push_back(static_cast<float>(v));
    for (const double v : a.get_floats("offset")) offset_.push_back(static_cast<float>(v));
    KS_CHECK(!scale_.empty() && !offset_.empty(), "Layer '", name,
             "': scale and offset need at least one value");
  }

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1) shape_error("expects exactly one input");
    const int64_t c = in[0].empty() ? 1 : in[0].back();
    const int64_t k = std::max(scale_.size(), offset_.size());
    if (k > 1 && (c != k || (scale_.size() != 1 && static_cast<int64_t>(scale_.size()) != c) ||
                  (offset_.size() != 1 && static_cast<int64_t>(offset_.size()) != c)))
      shape_error(str_cat("per-channel scale (", scale_.size(), " values) and offset (",
                          offset_.size(), " values) must match the last axis of the input shape ",
                          shape_str(in[0])));
    // Both broadcast to k values, so one kernel handles every combination.
    scale_k_ = Tensor({k});
    offset_k_ = Tensor({k});
    for (int64_t j = 0; j < k; ++j) {
      scale_k_.data()[j] = scale_[scale_.size() == 1 ? 0 : j];
      offset_k_.data()[j] = offset_[offset_.size() == 1 ? 0 : j];
    }
    return in[0];
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState&,
               const StepContext&) override {
    out.resize(in[0]->shape(), in[0]->device());
    apply(*in[0], out, true);
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState&, const StepContext&) override {
    if (!din[0]) return;
    din[0]->resize(in[0]->shape(), in[0]->device());
    apply(dout, *din[0], false);  // dx = dy * scale
  }
  bool supports(Device) const override { return true; }

 private:
  void apply(const Tensor& x, Tensor& y, bool with_offset) {
    const int64_t n = x.numel(), k = scale_k_.numel();
    if (x.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      if (scale_k_.device() != Device::CUDA) {
        scale_k_ = scale_k_.to(Device::CUDA);
        offset_k_ = offset_k_.to(Device::CUDA);
      }
      return cuda::scale_offset(x.data(), y.data(), n, scale_k_.data(),
                                with_offset ? offset_k_.data() : nullptr, k);
#else
      no_cuda_build("Rescaling");
#endif
    }
    if (scale_k_.device() != Device::CPU) {
      scale_k_ = scale_k_.to(Device::CPU);
      offset_k_ = offset_k_.to(Device::CPU);
    }
    const float* xp = x.data();
    const float* sp = scale_k_.data();
    const float* op = offset_k_.data();
    float* yp = y.data();
    if (k == 1) {  // one scale and offset for every value
      parallel_for(n, chunk_for(n, 1 << 16), [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
          const float v = xp[i] * sp[0];
          yp[i] = with_offset ? v + op[0] : v;
        }
      });
      return;
    }
    const int64_t rows = n / k;  // per-channel values repeat along the last axis
    parallel_for(rows, chunk_for(rows, std::max<int64_t>(1, (1 << 16) / k)),
                 [&](int64_t r0, int64_t r1) {
                   for (int64_t r = r0; r < r1; ++r)
                     for (int64_t j = 0; j < k; ++j) {
                       const float v = xp[r * k + j] * sp[j];
                       yp[r * k + j] = with_offset ? v + op[j] : v;
                     }
                 });
  }

  std::vector<float> scale_, offset_;
  Tensor scale_k_, offset_k_;  // both broadcast to k values, on the device last used
};
KS_REGISTER_LAYER("rescaling", RescalingLayer);

// Reshape to a per-sample target shape (one -1 allowed); Flatten is Reshape to (-1,).
class ReshapeLayer : public Layer {
 public:
  ReshapeLayer(const std::string& name, const Attrs& a)
      : Layer(name), target_(a.get_ints("target_shape")) {}

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1) shape_error("expects exactly one input");
    const int64_t total = shape_numel(in[0]);
    Shape out = target_;
    int64_t known = 1, unknown = -1;
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i] == -1) {
        if (unknown >= 0) shape_error("target shape " + shape_str(target_) + " has more than one -1");
        unknown = static_cast<int64_t>(i);
      } else {
        known *= out[i];
      }
    }
    if (unknown >= 0) {
      if (known == 0 || total % known != 0)
        shape_error("cannot reshape an input of shape " + shape_str(in[0]) + " to " +
                    shape_str(target_));
      out[unknown] = total / known;
    } else if (known != total) {
      shape_error(str_cat("total size of the new array must be unchanged: input shape ",
                          shape_str(in[0]), " (", total, " values), target shape ",
                          shape_str(target_), " (", known, " values)"));
    }
    out_ = out;
    return out;
  }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState&,
               const StepContext&) override {
    Shape s{in[0]->dim(0)};
    s.insert(s.end(), out_.begin(), out_.end());
    // A view: no copy. `out` shares the input's storage.
    out = in[0]->reshaped(s);
  }
  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState&, const StepContext&) override {
    if (din[0]) *din[0] = dout.reshaped(in[0]->shape());
  }
  bool supports(Device) const override { return true; }  // views only

 private:
  Shape target_, out_;
};
KS_REGISTER_LAYER("reshape", ReshapeLayer);

}  // namespace kerasette

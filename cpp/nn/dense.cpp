// Dense: y = act(x @ kernel + bias) over the last axis. kernel is (in, units), as Keras stores it.
#include "nn/layer_registry.h"
#include "ops/device_ops.h"

namespace kerasette {

class DenseLayer : public Layer {
 public:
  DenseLayer(const std::string& name, const Attrs& a)
      : Layer(name),
        units_(a.get_int("units")),
        use_bias_(a.get_bool("use_bias", true)),
        act_(parse_activation(a.get_str("activation", "linear"))),
        alpha_(activation_alpha(act_, a)) {}

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1 || in[0].empty())
      shape_error("expects one input of rank >= 2 (batch included), got per-sample shape " +
                  (in.empty() ? std::string("none") : shape_str(in[0])));
    // Checked before anything is stored: a rejected call (a symbolic call on a wider input) must
    // leave the built layer as it was, or its next forward/backward reads with the wrong width.
    const int64_t in_features = in[0].back();
    if (params_.empty()) {
      add_param("kernel", {in_features, units_});
      if (use_bias_) add_param("bias", {units_});
    } else if (params_[0].value.dim(0) != in_features) {
      shape_error(str_cat("input has ", in_features, " features but the layer was built for ",
                          params_[0].value.dim(0)));
    }
    in_features_ = in_features;
    Shape out = in[0];
    out.back() = units_;
    return out;
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState& st,
               const StepContext&) override {
    const Tensor& x = *in[0];
    const int64_t rows = x.numel() / in_features_;
    Shape out_shape = x.shape();
    out_shape.back() = units_;
    // relu runs in the product's epilogue, on each tile while it is in cache, with no
    // pre-activation copy: its derivative [z > 0] equals [relu(z) > 0], so backward reads the
    // output (as Conv does). Other activations keep the pre-activation values in st.logits, which
    // backward and the losses fused with softmax/sigmoid need.
    const bool fused = act_ == Act::Linear || act_ == Act::Relu;
    GemmEpilogue ep;
    ep.bias = use_bias_ ? params_[1].value.data() : nullptr;
    ep.act = fused ? act_ : Act::Linear;
    Tensor& z = fused ? out : st.logits;
    z.resize(out_shape, x.device());
    gemm_on(x.device(), false, false, rows, units_, in_features_, x.data(), in_features_,
            params_[0].value.data(), units_, z.data(), units_, false, &ep);
    if (!fused) activation_forward(act_, alpha_, z, out);
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState& st, const StepContext& ctx) override {
    const Tensor& x = *in[0];
    const int64_t rows = x.numel() / in_features_;
    const Tensor* dz = &dout;
    if (act_ != Act::Linear && !st.loss_fused) {
      if (st.saved.empty()) st.saved.resize(1);
      activation_backward(act_, alpha_, act_ == Act::Relu ? out : st.logits, out, dout,
                          st.saved[0]);
      dz = &st.saved[0];
    }
    if (trainable) {
      gemm_on(x.device(), true, false, in_features_, units_, rows, x.data(), in_features_,
              dz->data(), units_, params_[0].grad.data(), units_, ctx.accumulate_param_grads);
      if (use_bias_)
        sum_rows_on(x.device(), dz->data(), params_[1].grad.data(), rows, units_,
                    ctx.accumulate_param_grads);
    }
    if (din[0]) {
      din[0]->resize(x.shape(), x.device());
      gemm_on(x.device(), false, true, rows, in_features_, units_, dz->data(), units_,
              params_[0].value.data(), units_, din[0]->data(), in_features_);
    }
  }

  Act output_activation() const override { return act_; }
  bool supports(Device) const override { return true; }

 private:
  int64_t units_;
  bool use_bias_;
  Act act_;
  float alpha_;
  int64_t in_features_ = 0;
};

KS_REGISTER_LAYER("dense", DenseLayer);

}  // namespace kerasette

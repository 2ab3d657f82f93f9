// Conv1D / Conv2D: y = act(conv(x, kernel) + bias), NHWC. Conv1D is the H = 1 case of the same code
// (its kernel (k, cin, cout) has the memory layout of a (1, k, cin, cout) one). The math and the path
// rule (direct GEMM for 1x1 stride-1 kernels, im2col + GEMM otherwise) live in ops/conv2d.
//
// NodeState.saved: [0] the im2col workspace (still valid for backward when forward filled it for
// the whole batch: NodeState.workspace_valid), [1] d(loss)/d(pre-activation), [2] the col2im
// workspace. All are resized, never reallocated once large enough.
#include "nn/layer_registry.h"
#include "nn/shape_text.h"
#include "ops/conv2d.h"
#include "ops/conv2d_cuda.h"

namespace kerasette {

class ConvLayer : public Layer {
 public:
  ConvLayer(const std::string& name, const Attrs& a)
      : Layer(name),
        rank_(a.get_int("rank", 2)),
        filters_(a.get_int("filters")),
        kernel_size_(a.get_ints("kernel_size")),
        strides_(a.get_ints("strides", std::vector<int64_t>(rank_, 1))),
        dilation_(a.get_ints("dilation_rate", std::vector<int64_t>(rank_, 1))),
        padding_(parse_padding(a.get_str("padding", "valid"))),
        groups_(a.get_int("groups", 1)),
        use_bias_(a.get_bool("use_bias", true)),
        act_(parse_activation(a.get_str("activation", "linear"))),
        alpha_(activation_alpha(act_, a)) {
    KS_CHECK(rank_ == 1 || rank_ == 2, "Layer '", name, "': conv rank must be 1 or 2");
    KS_CHECK(static_cast<int64_t>(kernel_size_.size()) == rank_ &&
                 static_cast<int64_t>(strides_.size()) == rank_ &&
                 static_cast<int64_t>(dilation_.size()) == rank_,
             "Layer '", name, "': kernel_size, strides and dilation_rate need ", rank_, " entries");
    KS_CHECK(groups_ >= 1 && filters_ % groups_ == 0, "Layer '", name,
             "': the number of filters must be evenly divisible by the number of groups. "
             "Received: groups=", groups_, ", filters=", filters_);
  }

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1 || static_cast<int64_t>(in[0].size()) != rank_ + 1)
      shape_error(str_cat("expected an input of rank ", rank_ + 2, " (batch included), got shape ",
                          in.empty() ? std::string("none") : batch_shape_str(in[0])));
    const Conv2dGeometry g = geometry_for(in[0]);
    const int64_t cin = in[0].back();
    Shape kshape = rank_ == 2 ? Shape{kernel_size_[0], kernel_size_[1], cin / groups_, filters_}
                              : Shape{kernel_size_[0], cin / groups_, filters_};
    add_or_check_kernel(in[0], kshape, use_bias_, filters_);
    return rank_ == 2 ? Shape{g.h.out, g.w.out, filters_} : Shape{g.w.out, filters_};
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState& st,
               const StepContext&) override {
    const Tensor& x = *in[0];
    Conv2dGeometry g = geometry_for(Shape(x.shape().begin() + 1, x.shape().end()));
    g.batch = x.dim(0);
    if (st.saved.size() < 3) st.saved.resize(3);
    Shape out_shape{g.batch};
    if (rank_ == 2) out_shape.push_back(g.h.out);
    out_shape.push_back(g.w.out);
    out_shape.push_back(filters_);
#ifdef KERASETTE_WITH_CUDA
    if (x.device() == Device::CUDA) {  // the same steps on the device (ops/conv2d_cuda.h)
      const bool fused = act_ == Act::Linear || act_ == Act::Relu;
      Tensor& z = fused ? out : st.logits;
      z.resize(out_shape, Device::CUDA);
      st.workspace_valid = conv2d_forward_cuda(g, x.data(), params_[0].value.data(),
                                               use_bias_ ? params_[1].value.data() : nullptr,
                                               fused ? act_ : Act::Linear, alpha_, z.data(),
                                               st.saved[0]);
      if (!fused) activation_forward(act_, alpha_, z, out);
      return;
    }
#endif
    // relu runs in the GEMM epilogue with no pre-activation copy: its derivative [x > 0] equals
    // [relu(x) > 0], so backward can read the output instead. Other activations keep the
    // pre-activation in st.logits (softmax/sigmoid may fuse with the loss).
    const bool fused = act_ == Act::Linear || act_ == Act::Relu;
    Tensor& z = fused ? out : st.logits;
    z.resize(out_shape);
    st.workspace_valid = conv2d_forward(g, x.data(), params_[0].value.data(),
                                        use_bias_ ? params_[1].value.data() : nullptr,
                                        fused ? act_ : Act::Linear, alpha_, z.data(), st.saved[0]);
    if (!fused) activation_forward(act_, alpha_, z, out);
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState& st, const StepContext& ctx) override {
    const Tensor& x = *in[0];
    Conv2dGeometry g = geometry_for(Shape(x.shape().begin() + 1, x.shape().end()));
    g.batch = x.dim(0);
    if (st.saved.size() < 3) st.saved.resize(3);
    const Tensor* dz = &dout;
    if (act_ != Act::Linear && !st.loss_fused) {
      activation_backward(act_, alpha_, act_ == Act::Relu ? out : st.logits, out, dout,
                          st.saved[1]);
      dz = &st.saved[1];
    }
#ifdef KERASETTE_WITH_CUDA
    if (x.device() == Device::CUDA) {
      if (trainable)
        conv2d_backward_weight_cuda(g, x.data(), dz->data(), params_[0].grad.data(),
                                    use_bias_ ? params_[1].grad.data() : nullptr,
                                    ctx.accumulate_param_grads, st.saved[0], st.workspace_valid);
      if (din[0]) {
        din[0]->resize(x.shape(), Device::CUDA);
        conv2d_backward_input_cuda(g, dz->data(), params_[0].value.data(), din[0]->data(),
                                   st.saved[2]);
      }
      return;
    }
#endif
    if (trainable) {
      // The forward call's im2col matrix is reused when the whole batch fit in one slice.
      conv2d_backward_weight(g, x.data(), dz->data(), params_[0].grad.data(),
                             use_bias_ ? params_[1].grad.data() : nullptr,
                             ctx.accumulate_param_grads, st.saved[0], st.workspace_valid);
    }
    if (din[0]) {
      din[0]->resize(x.shape());
      conv2d_backward_input(g, dz->data(), params_[0].value.data(), din[0]->data(), st.saved[2]);
    }
  }

  Act output_activation() const override { return act_; }
  // The GPU path covers every configuration (Conv1D is its H = 1 case; groups run one by one).
  bool supports(Device) const override { return true; }

 private:
  // The window geometry for a per-sample input shape (H, W, C) or (L, C); ValueError naming the
  // layer when the input does not fit.
  Conv2dGeometry geometry_for(const Shape& s) const {
    const int64_t cin = s.back();
    if (cin % groups_ != 0)
      shape_error(str_cat("the number of input channels must be evenly divisible by the number "
                          "of groups. Received: groups=", groups_, ", input_shape=",
                          batch_shape_str(s)));
    Conv2dGeometry g;
    g.cin = cin;
    g.cout = filters_;
    g.groups = groups_;
    const int r = static_cast<int>(rank_);
    g.h = r == 2 ? window_axis(s[0], kernel_size_[0], strides_[0], dilation_[0], padding_)
                 : window_axis(1, 1, 1, 1, Padding::Valid);
    g.w = window_axis(s[r - 1], kernel_size_[r - 1], strides_[r - 1], dilation_[r - 1], padding_);
    if (g.h.out <= 0 || g.w.out <= 0)
      shape_error(str_cat("computed output size would be negative: input of shape ",
                          batch_shape_str(s), " is too small for kernel_size=",
                          tuple_str(kernel_size_), " with dilation_rate=", tuple_str(dilation_),
                          " and padding='", padding_name(padding_), "'"));
    return g;
  }

  int64_t rank_, filters_;
  std::vector<int64_t> kernel_size_, strides_, dilation_;
  Padding padding_;
  int64_t groups_;
  bool use_bias_;
  Act act_;
  float alpha_;
};

KS_REGISTER_LAYER("conv", ConvLayer);

}  // namespace kerasette

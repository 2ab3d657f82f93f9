// Conv1DTranspose / Conv2DTranspose: y = act(conv_transpose(x, kernel) + bias), NHWC, as the
// adjoint of a convolution (TensorFlow's definition, which Keras's TF backend calls).
//
// The layer is a convolution run backwards. Take the convolution C whose input has the transposed
// layer's output size (OH, OW, filters) and whose output has its input size (H, W, cin): C's kernel
// is (kh, kw, filters, cin), exactly the kernel Keras stores for Conv2DTranspose. Then
//   forward:        y  = C.backward_input(x)          (ops/conv2d.h conv2d_backward_input)
//   input gradient: dx = C.forward(dy)                (conv2d_forward, no bias)
//   kernel grad:    dk = C.backward_weight(x = dy, dy = x)
// and the bias gradient is the column sums of dy. Conv1DTranspose is the H = 1 case. The CUDA path
// calls the device counterparts of the same three functions (ops/conv2d_cuda.h).
//
// NodeState.saved: [0] im2col(dy) from the input-gradient convolution, reused by the kernel
// gradient when it covers the whole batch; [1] the col2im workspace of the forward pass; [2]
// d(loss)/d(pre-activation).
#include <algorithm>

#include "nn/layer_registry.h"
#include "nn/shape_text.h"
#include "ops/conv2d.h"
#include "ops/conv2d_cuda.h"
#include "ops/device_ops.h"

namespace kerasette {

class ConvTransposeLayer : public Layer {
 public:
  ConvTransposeLayer(const std::string& name, const Attrs& a)
      : Layer(name),
        rank_(a.get_int("rank", 2)),
        filters_(a.get_int("filters")),
        kernel_size_(a.get_ints("kernel_size")),
        strides_(a.get_ints("strides", std::vector<int64_t>(rank_, 1))),
        dilation_(a.get_ints("dilation_rate", std::vector<int64_t>(rank_, 1))),
        output_padding_(a.get_ints("output_padding", std::vector<int64_t>(rank_, -1))),
        padding_(parse_padding(a.get_str("padding", "valid"))),
        use_bias_(a.get_bool("use_bias", true)),
        act_(parse_activation(a.get_str("activation", "linear"))),
        alpha_(activation_alpha(act_, a)) {
    KS_CHECK(rank_ == 1 || rank_ == 2, "Layer '", name, "': conv_transpose rank must be 1 or 2");
    KS_CHECK(static_cast<int64_t>(kernel_size_.size()) == rank_ &&
                 static_cast<int64_t>(strides_.size()) == rank_ &&
                 static_cast<int64_t>(dilation_.size()) == rank_ &&
                 static_cast<int64_t>(output_padding_.size()) == rank_,
             "Layer '", name, "': kernel_size, strides, dilation_rate and output_padding need ",
             rank_, " entries");
    KS_CHECK(padding_ != Padding::Causal, "Layer '", name, "': padding must be valid or same");
  }

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1 || static_cast<int64_t>(in[0].size()) != rank_ + 1)
      shape_error(str_cat("expected an input of rank ", rank_ + 2, " (batch included), got shape ",
                          in.empty() ? std::string("none") : batch_shape_str(in[0])));
    const Conv2dGeometry g = geometry_for(in[0]);
    const int64_t cin = in[0].back();
    Shape kshape = rank_ == 2 ? Shape{kernel_size_[0], kernel_size_[1], filters_, cin}
                              : Shape{kernel_size_[0], filters_, cin};
    add_or_check_kernel(in[0], kshape, use_bias_, filters_);
    return rank_ == 2 ? Shape{g.h.in, g.w.in, filters_} : Shape{g.w.in, filters_};
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState& st,
               const StepContext&) override {
    const Tensor& x = *in[0];
    const Conv2dGeometry g = batch_geometry(x);
    const Device dev = x.device();
    if (st.saved.size() < 3) st.saved.resize(3);
    Shape out_shape{g.batch};
    if (rank_ == 2) out_shape.push_back(g.h.in);
    out_shape.push_back(g.w.in);
    out_shape.push_back(filters_);
    // Activations other than linear keep the pre-activation for backward.
    Tensor& z = act_ == Act::Linear ? out : st.logits;
    z.resize(out_shape, dev);
    const float* kernel = params_[0].value.data();
    if (dev == Device::CUDA)
      conv2d_backward_input_cuda(g, x.data(), kernel, z.data(), st.saved[1]);
    else
      conv2d_backward_input(g, x.data(), kernel, z.data(), st.saved[1]);
    if (use_bias_)
      add_bias_rows_on(dev, z.data(), params_[1].value.data(), g.batch * g.h.in * g.w.in, filters_);
    if (act_ != Act::Linear) activation_forward(act_, alpha_, z, out);
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState& st, const StepContext& ctx) override {
    const Tensor& x = *in[0];
    const Conv2dGeometry g = batch_geometry(x);
    const Device dev = x.device();
    const bool cuda = dev == Device::CUDA;
    if (st.saved.size() < 3) st.saved.resize(3);
    const Tensor* dz = &dout;
    if (act_ != Act::Linear && !st.loss_fused) {
      activation_backward(act_, alpha_, st.logits, out, dout, st.saved[2]);
      dz = &st.saved[2];
    }
    // The input gradient runs first: its im2col(dy) is the kernel gradient's im2col too.
    bool col_valid = false;
    if (din[0]) {
      din[0]->resize(x.shape(), dev);
      const float* kernel = params_[0].value.data();
      col_valid = cuda ? conv2d_forward_cuda(g, dz->data(), kernel, nullptr, Act::Linear, 0.0f,
                                             din[0]->data(), st.saved[0])
                       : conv2d_forward(g, dz->data(), kernel, nullptr, Act::Linear, 0.0f,
                                        din[0]->data(), st.saved[0]);
    }
    if (!trainable) return;
    const bool acc = ctx.accumulate_param_grads;
    float* dkernel = params_[0].grad.data();
    if (cuda)
      conv2d_backward_weight_cuda(g, dz->data(), x.data(), dkernel, nullptr, acc, st.saved[0],
                                  col_valid);
    else
      conv2d_backward_weight(g, dz->data(), x.data(), dkernel, nullptr, acc, st.saved[0],
                             col_valid);
    if (use_bias_) {
      const int64_t rows = g.batch * g.h.in * g.w.in;
      if (cuda)
        sum_rows_on(dev, dz->data(), params_[1].grad.data(), rows, filters_, acc);
      else  // parallel, in a fixed order: as Conv's bias gradient
        sum_rows_fixed(dz->data(), params_[1].grad.data(), rows, filters_, acc);
    }
  }

  Act output_activation() const override { return act_; }
  // Every configuration runs on the device: the three conv2d *_cuda functions cover it.
  bool supports(Device) const override { return true; }

 private:
  // Keras's output length (its TF backend's deconv_output_length): `op` < 0 means no
  // output_padding given.
  static int64_t output_length(int64_t n, int64_t k, int64_t s, int64_t d, int64_t op,
                               Padding padding) {
    const int64_t span = (k - 1) * d + 1;
    if (padding == Padding::Valid)
      return (n - 1) * s + span + (op < 0 ? std::max(span, s) - span : op);
    return op < 0 ? n * s : (n - 1) * s + span % 2 + op;
  }

  // The geometry of the convolution this layer transposes, for a per-sample input shape (H, W, C)
  // or (L, C): its input is this layer's output. ValueError naming the layer when the convolution
  // of that output size does not give back the input size (TensorFlow refuses these too).
  Conv2dGeometry geometry_for(const Shape& s) const {
    Conv2dGeometry g;
    g.cin = filters_;
    g.cout = s.back();
    const int r = static_cast<int>(rank_);
    auto axis = [&](int i) {
      const int64_t n = s[i];
      const int64_t len = output_length(n, kernel_size_[i], strides_[i], dilation_[i],
                                        output_padding_[i], padding_);
      WindowAxis w = window_axis(len, kernel_size_[i], strides_[i], dilation_[i], padding_);
      if (len <= 0 || w.out != n)
        shape_error(str_cat("input of shape ", batch_shape_str(s), " gives an output length of ",
                            len, " on spatial axis ", i, ", which a convolution with kernel_size=",
                            tuple_str(kernel_size_), ", strides=", tuple_str(strides_),
                            " and padding='", padding_name(padding_),
                            "' does not map back to ", n,
                            ". Use another `output_padding` (an "
                            "even kernel with padding='same' needs output_padding >= 1)"));
      return w;
    };
    g.h = r == 2 ? axis(0) : window_axis(1, 1, 1, 1, Padding::Valid);
    g.w = axis(r - 1);
    return g;
  }

  Conv2dGeometry batch_geometry(const Tensor& x) const {
    Conv2dGeometry g = geometry_for(Shape(x.shape().begin() + 1, x.shape().end()));
    g.batch = x.dim(0);
    return g;
  }

  int64_t rank_, filters_;
  std::vector<int64_t> kernel_size_, strides_, dilation_, output_padding_;
  Padding padding_;
  bool use_bias_;
  Act act_;
  float alpha_;
};

KS_REGISTER_LAYER("conv_transpose", ConvTransposeLayer);

}  // namespace kerasette

#include "nn/layer.h"

#include <map>

#include "core/parallel.h"
#include "nn/layer_registry.h"
#include "nn/shape_text.h"
#include "ops/device_ops.h"
#include "ops/dispatch.h"
#ifdef KERASETTE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace kerasette {

static std::map<std::string, LayerFactory>& registry() {
  static std::map<std::string, LayerFactory> r;
  return r;
}

bool register_layer(const std::string& kind, LayerFactory factory) {
  registry()[kind] = std::move(factory);
  return true;
}

std::unique_ptr<Layer> make_layer(const std::string& kind, const std::string& name,
                                  const Attrs& attrs) {
  auto it = registry().find(kind);
  KS_CHECK(it != registry().end(), "Unknown engine layer kind '", kind, "' (layer '", name, "')");
  return it->second(name, attrs);
}

Param& Layer::add_param(const std::string& name, const Shape& shape, bool trainable_param) {
  Param p;
  p.name = name;
  p.value = Tensor::zeros(shape);
  p.trainable = trainable_param;
  if (trainable_param) p.grad = Tensor::zeros(shape);
  params_.push_back(std::move(p));
  return params_.back();
}

void Layer::add_or_check_kernel(const Shape& input, const Shape& kernel, bool use_bias,
                                int64_t bias_size) {
  if (params_.empty()) {
    add_param("kernel", kernel);
    if (use_bias) add_param("bias", {bias_size});
  } else if (params_[0].value.shape() != kernel) {
    shape_error(str_cat("input of shape ", batch_shape_str(input), " needs a kernel of shape ",
                        shape_str(kernel), " but the layer was built with ",
                        shape_str(params_[0].value.shape())));
  }
}

void Layer::place_params(Device device) {
  for (Param& p : params_) {
    if (p.value.defined() && p.value.device() != device) p.value = p.value.to(device);
    if (p.grad.defined() && p.grad.device() != device) p.grad = p.grad.to(device);
  }
}

void Layer::shape_error(const std::string& what) const {
  fail("Layer '", name_, "': ", what);
}

Act parse_activation(const std::string& name) {
  static const std::map<std::string, Act> names = {
      {"linear", Act::Linear},     {"relu", Act::Relu},
      {"sigmoid", Act::Sigmoid},   {"tanh", Act::Tanh},
      {"softmax", Act::Softmax},   {"elu", Act::Elu},
      {"selu", Act::Selu},         {"leaky_relu", Act::LeakyRelu},
      {"softplus", Act::Softplus}, {"softsign", Act::Softsign},
      {"swish", Act::Swish},       {"silu", Act::Swish},
      {"gelu", Act::Gelu},         {"hard_sigmoid", Act::HardSigmoid},
      {"exponential", Act::Exponential}, {"relu6", Act::Relu6},
      {"mish", Act::Mish},         {"hard_swish", Act::HardSwish},
      {"hard_silu", Act::HardSwish}};
  auto it = names.find(name);
  KS_CHECK(it != names.end(), "Unknown activation '", name, "'");
  return it->second;
}

float activation_alpha(Act act, const Attrs& a) {
  const double keras_default = act == Act::Elu ? 1.0 : act == Act::LeakyRelu ? 0.2 : 0.0;
  return static_cast<float>(a.get_float("alpha", keras_default));
}

// Elementwise work is cut into fixed chunks of this many values (rows for softmax), so the
// threads share it and every value is computed the same way whatever the thread count.
constexpr int64_t kElementChunk = 1 << 14;

void activation_forward(Act act, float alpha, const Tensor& x, Tensor& y) {
  y.resize(x.shape(), x.device());
  if (x.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
    const int64_t cols = x.ndim() ? x.dim(-1) : 1;
    if (act == Act::Softmax)
      cuda::softmax_rows(x.data(), y.data(), cols ? x.numel() / cols : 0, cols);
    else
      cuda::act_forward(act, alpha, x.data(), y.data(), x.numel());
    return;
#else
    no_cuda_build("activation_forward");
#endif
  }
  const CpuKernels& k = cpu_kernels();
  const float* xp = x.data();
  float* yp = y.data();
  if (act == Act::Softmax) {
    const int64_t cols = x.ndim() ? x.dim(-1) : 1;
    const int64_t rows = cols ? x.numel() / cols : 0;
    parallel_for(rows, std::max<int64_t>(1, kElementChunk / std::max<int64_t>(cols, 1)),
                 [&](int64_t b, int64_t e) {
                   k.softmax_rows(xp + b * cols, yp + b * cols, e - b, cols);
                 });
  } else {
    parallel_for(x.numel(), kElementChunk, [&](int64_t b, int64_t e) {
      k.act_forward(act, alpha, xp + b, yp + b, e - b);
    });
  }
}

void activation_backward(Act act, float alpha, const Tensor& x, const Tensor& y, const Tensor& dy,
                         Tensor& dx) {
  dx.resize(x.shape(), x.device());
  if (x.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
    const int64_t cols = x.ndim() ? x.dim(-1) : 1;
    if (act == Act::Softmax)
      cuda::softmax_rows_backward(y.data(), dy.data(), dx.data(), cols ? x.numel() / cols : 0,
                                  cols);
    else
      cuda::act_backward(act, alpha, x.data(), y.data(), dy.data(), dx.data(), x.numel());
    return;
#else
    no_cuda_build("activation_backward");
#endif
  }
  const CpuKernels& k = cpu_kernels();
  const float *xp = x.data(), *yp = y.data(), *dyp = dy.data();
  float* dxp = dx.data();
  if (act == Act::Softmax) {
    const int64_t cols = x.ndim() ? x.dim(-1) : 1;
    const int64_t rows = cols ? x.numel() / cols : 0;
    parallel_for(rows, std::max<int64_t>(1, kElementChunk / std::max<int64_t>(cols, 1)),
                 [&](int64_t b, int64_t e) {
                   k.softmax_rows_backward(yp + b * cols, dyp + b * cols, dxp + b * cols, e - b,
                                           cols);
                 });
  } else {
    parallel_for(x.numel(), kElementChunk, [&](int64_t b, int64_t e) {
      k.act_backward(act, alpha, xp + b, yp + b, dyp + b, dxp + b, e - b);
    });
  }
}

}  // namespace kerasette

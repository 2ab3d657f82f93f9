// The engine's layer interface. A Layer owns its parameters; everything that belongs to one call of
// the layer (saved activations, the fused-loss flag) lives in a NodeState owned by the graph, so a
// layer shared by several graph nodes keeps one set of weights and one state per call.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "kernels/cpu/kernels.h"
#include "nn/attrs.h"

namespace kerasette {

struct Param {
  std::string name;  // Keras's weight name: "kernel", "bias", "gamma", "moving_mean", ...
  Tensor value;
  Tensor grad;             // allocated for trainable parameters only
  bool trainable = true;   // false for state such as BatchNormalization's moving statistics
  float l1 = 0.0f, l2 = 0.0f;  // weight regularizer, added to the loss
};

struct StepContext {
  bool training = false;
  uint64_t step = 0;                   // optimizer iterations so far (dropout streams)
  bool accumulate_param_grads = false;  // a shared layer's second call adds to its gradients
};

struct NodeState {
  std::vector<Tensor> saved;  // per-call buffers a layer keeps from forward for backward
  Tensor logits;              // pre-activation output, when the layer ends in an activation
  bool loss_fused = false;    // the loss gives d(loss)/d(logits) directly: skip the activation
  bool workspace_valid = false;  // saved[0] still holds what forward computed for backward
};

class Layer {
 public:
  explicit Layer(std::string name) : name_(std::move(name)) {}
  virtual ~Layer() = default;

  // Per-sample input shapes (batch axis excluded) -> per-sample output shape. Creates parameters.
  // Throws ValueError naming the layer when a shape does not fit.
  virtual Shape build(const std::vector<Shape>& input_shapes) = 0;
  // Computes out (resized here) from the inputs; batch axis first.
  virtual void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState& state,
                       const StepContext& ctx) = 0;
  // Given d(loss)/d(out), writes d(loss)/d(in[i]) into din[i] (resized here; null when not needed)
  // and the parameter gradients (overwritten, or added when ctx.accumulate_param_grads).
  virtual void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                        const std::vector<Tensor*>& din, NodeState& state,
                        const StepContext& ctx) = 0;
  // The activation this layer ends with (softmax and sigmoid can fuse with a cross-entropy loss).
  virtual Act output_activation() const { return Act::Linear; }
  // The pre-activation output of the last forward call, for a loss fused with the activation.
  virtual const Tensor* output_logits(const std::vector<const Tensor*>&,
                                      const NodeState& state) const {
    return state.logits.defined() ? &state.logits : nullptr;
  }

  // Whether forward and backward can run on `device` (tensors there). Layers with a CUDA path
  // override this; the graph refuses the others on CUDA with NotImplementedError.
  virtual bool supports(Device device) const { return device == Device::CPU; }
  // Moves the parameters (values and gradients) to `device`; a no-op when they are there.
  void place_params(Device device);

  const std::string& name() const { return name_; }
  std::vector<Param>& params() { return params_; }
  const std::vector<Param>& params() const { return params_; }
  bool trainable = true;
  float activity_l1 = 0.0f, activity_l2 = 0.0f;

 protected:
  Param& add_param(const std::string& name, const Shape& shape, bool trainable_param = true);
  // The first build adds "kernel" (and "bias" of `bias_size` when `use_bias`); a later build
  // checks that the input of per-sample shape `input` still needs this kernel.
  void add_or_check_kernel(const Shape& input, const Shape& kernel, bool use_bias,
                           int64_t bias_size);
  [[noreturn]] void shape_error(const std::string& what) const;
  std::string name_;
  std::vector<Param> params_;
};

std::unique_ptr<Layer> make_layer(const std::string& kind, const std::string& name,
                                  const Attrs& attrs);

// Applies an activation to a whole tensor and takes it back; softmax is over the last axis.
void activation_forward(Act act, float alpha, const Tensor& x, Tensor& y);
void activation_backward(Act act, float alpha, const Tensor& x, const Tensor& y, const Tensor& dy,
                         Tensor& dx);
Act parse_activation(const std::string& name);
// A layer's activation parameter: its `alpha` attribute, else Keras's default for the named
// activation (elu 1.0, leaky_relu 0.2; 0 for the others, which is exact gelu).
float activation_alpha(Act act, const Attrs& attrs);

}  // namespace kerasette

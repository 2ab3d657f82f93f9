// The graph executor: a DAG of layer calls in topological order (the order nodes were added), with
// one output buffer and one gradient buffer per node, reused across steps. A whole training step
// (forward, losses, metrics, backward, regularization, optimizer update) is one call; so is a run
// of several steps over a data set, which is how `fit` calls it.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nn/layer.h"
#include "nn/losses.h"
#include "nn/metrics.h"
#include "nn/optimizers.h"

namespace kerasette {

struct OutputLoss {
  std::unique_ptr<Loss> loss;  // null: this output takes no loss
  float weight = 1.0f;
  std::vector<std::unique_ptr<Metric>> metrics;
  // Whether a batch's targets for this output are read (by its loss or its metrics).
  bool reads_targets() const { return loss || !metrics.empty(); }
};

// Full arrays for a run of steps; rows are picked by `index` (a permutation) or taken in order.
struct DataSet {
  std::vector<Tensor> inputs;   // (N, ...) each
  std::vector<Tensor> targets;  // (N, ...) each, one per output (undefined for outputs
                                // with neither a loss nor metrics)
  Tensor sample_weight;         // (N,) or undefined
  const int64_t* index = nullptr;
  int64_t size() const { return inputs.empty() ? 0 : inputs[0].dim(0); }
};

class Graph {
 public:
  int add_input(const Shape& sample_shape);
  int add_node(std::shared_ptr<Layer> layer, const std::vector<int>& inputs);
  const Shape& node_shape(int id) const { return nodes_.at(id).shape; }
  void set_outputs(const std::vector<int>& ids);
  size_t num_outputs() const { return outputs_.size(); }

  // Where the graph runs. On CUDA the parameters, gradients, optimizer slots and activations stay
  // on the GPU; a step copies in only the batch and copies out nothing (loss and metric sums are
  // accumulated on the device, read by results()). strict: a layer without a CUDA path raises
  // NotImplementedError naming it; not strict: the graph quietly stays on the CPU (the default
  // device of a CUDA build is chosen that way). Throws in a build without CUDA.
  void set_device(Device device, bool strict = true);
  Device device() const { return device_; }

  void compile(std::vector<OutputLoss> losses, std::unique_ptr<Optimizer> optimizer);
  bool compiled() const { return compiled_; }
  // Checks a target's per-sample shape against output `o` (ValueError naming both shapes).
  void check_target(size_t o, const Shape& target_sample_shape) const;
  Optimizer* optimizer() { return optimizer_.get(); }
  // Trainable parameters in model order (each shared layer once): what the optimizer updates.
  std::vector<Param*> trainable_params();

  // Runs batches [first, first + count) of size batch_size over the data set.
  void train_batches(const DataSet& data, int64_t batch_size, int64_t first, int64_t count);
  void test_batches(const DataSet& data, int64_t batch_size, int64_t first, int64_t count);
  // Forward in inference mode over all rows; outputs (preallocated, (N, ...)) are filled.
  void predict(const DataSet& data, int64_t batch_size, std::vector<Tensor>& outputs,
               bool training = false);
  // Forward in inference mode over all rows as one batch (a single prediction call); the results
  // are then output(o), on the graph's device and valid until the graph runs again.
  void predict_batch(const DataSet& data);
  const Tensor& output(size_t o) const { return nodes_[outputs_.at(o)].out; }

  // Values since the last reset: the mean loss, then each output's mean loss when there are
  // several outputs, then each output's metrics in order (each metric's result()).
  std::vector<double> results() const;
  void reset_metrics();
  size_t num_results() const { return counts_.size(); }

 private:
  struct Node {
    std::shared_ptr<Layer> layer;  // null for an input node
    std::vector<int> inputs;
    Shape shape;  // per-sample output shape
    Tensor out, grad;
    Tensor staging;  // input nodes: the gathered batch when rows are not contiguous
    NodeState state;
    bool needs_grad = false;  // some trainable parameter lies at or upstream of this node
    bool has_consumers = false;
  };

  void load_batch(const DataSet& data, int64_t begin, int64_t end, bool with_targets);
  // Loads rows [begin, end) and runs the forward pass (no targets, no loss); the graph must be
  // prepared and placed.
  void forward_rows(const DataSet& data, int64_t begin, int64_t end, bool training);
  void forward(const StepContext& ctx);
  double compute_losses(bool with_grad);  // returns the total loss of the batch (mean)
  void backward(const StepContext& ctx);
  double regularization(bool add_grads);
  void accumulate(double total_loss);
  // The output's pre-activation values and activation, for the metrics that read them.
  const Tensor* output_logits(size_t o, Act* act);
  // Label values no kernel could reject (integer labels in range) for output o's targets: checked
  // by its loss, or by its metrics when it has none. Host memory.
  void check_target_values(size_t o, const float* target, int64_t count) const;
  void prepare();
  // Resolves the device (strict or fallback) and moves parameters and slots there.
  void place_on_device();

  // The CUDA step (graph_cuda.cpp): the batch in through pinned staging, losses, metrics and
  // penalties summed into device accumulators.
  void load_batch_cuda(const DataSet& data, int64_t begin, int64_t end, bool with_targets);
  void losses_cuda(bool with_grad);
  void regularization_cuda(bool add_grads);
  void accumulate_cuda();  // metrics into the device sums; sample counts on the host
  std::vector<double> device_sums() const;  // synchronizes
  void reset_device_sums();

  Device requested_device_ = Device::CPU, device_ = Device::CPU;
  bool device_strict_ = true;
  std::shared_ptr<void> cuda_state_;  // graph_cuda.cpp's CudaState

  std::vector<Node> nodes_;
  std::vector<int> input_nodes_, outputs_;
  std::vector<Layer*> layers_;  // unique, in order of first use
  std::vector<OutputLoss> losses_;
  std::unique_ptr<Optimizer> optimizer_;
  bool compiled_ = false, prepared_ = false;

  // Per-batch scratch, reused.
  std::vector<Tensor> targets_, target_staging_;
  Tensor weight_staging_;
  Tensor sample_weight_, coef_, per_sample_, scratch_;
  std::vector<Tensor> scratch_bufs_;
  // Pointer lists rebuilt for each node call; members so that a step allocates nothing.
  std::vector<const Tensor*> in_ptrs_;
  std::vector<Tensor*> din_ptrs_;
  std::vector<int> pending_;  // gradients for a node's inputs that already have one
  void scratch_bufs_resize(size_t n) {
    if (scratch_bufs_.size() < n) scratch_bufs_.resize(n);
  }
  std::vector<double> output_losses_;
  std::vector<bool> grad_written_;
  std::vector<char> layer_grad_written_;
  int64_t batch_ = 0;
  bool has_sample_weight_ = false;

  // Epoch accumulators. Result r owns sums_[sum_offset_[r], + its width): one sum for a loss, a
  // metric's num_sums(); counts_[r] is the number of samples seen. On CUDA the device holds sums
  // of the same layout, added to these when read.
  std::vector<double> sums_, counts_;
  std::vector<size_t> sum_offset_;
  std::vector<Metric*> result_metric_;  // null for the loss entries
};

}  // namespace kerasette

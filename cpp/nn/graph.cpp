#include "nn/graph.h"

#include <cmath>
#include <cstring>

#include "core/parallel.h"
#include "ops/device_ops.h"
#include "ops/dispatch.h"

namespace kerasette {

int Graph::add_input(const Shape& sample_shape) {
  Node n;
  n.shape = sample_shape;
  nodes_.push_back(std::move(n));
  input_nodes_.push_back(static_cast<int>(nodes_.size()) - 1);
  prepared_ = false;
  return static_cast<int>(nodes_.size()) - 1;
}

int Graph::add_node(std::shared_ptr<Layer> layer, const std::vector<int>& inputs) {
  std::vector<Shape> shapes;
  for (int i : inputs) {
    KS_CHECK(i >= 0 && i < static_cast<int>(nodes_.size()), "Graph: unknown input node ", i);
    shapes.push_back(nodes_[i].shape);
  }
  Node n;
  n.shape = layer->build(shapes);
  n.inputs = inputs;
  n.layer = std::move(layer);
  for (int i : inputs) nodes_[i].has_consumers = true;
  bool seen = false;
  for (Layer* l : layers_) seen = seen || l == n.layer.get();
  if (!seen) layers_.push_back(n.layer.get());
  nodes_.push_back(std::move(n));
  prepared_ = false;
  return static_cast<int>(nodes_.size()) - 1;
}

void Graph::set_outputs(const std::vector<int>& ids) {
  for (int i : ids) KS_CHECK(i >= 0 && i < static_cast<int>(nodes_.size()), "Graph: bad output");
  outputs_ = ids;
  prepared_ = false;
}

std::vector<Param*> Graph::trainable_params() {
  std::vector<Param*> out;
  for (Layer* l : layers_)
    if (l->trainable)
      for (Param& p : l->params())
        if (p.trainable) out.push_back(&p);
  return out;
}

void Graph::set_device(Device device, bool strict) {
#ifndef KERASETTE_WITH_CUDA
  if (device == Device::CUDA) no_cuda_build("set_device('cuda')");
#endif
  requested_device_ = device;
  device_strict_ = strict;
  prepared_ = false;
}

void Graph::place_on_device() {
  Device d = requested_device_;
  if (d == Device::CUDA)
    for (const Node& n : nodes_)
      if (n.layer && !n.layer->supports(Device::CUDA)) {
        if (device_strict_)
          throw NotImplementedError(str_cat(
              "Layer '", n.layer->name(), "' has no CUDA implementation yet, so this model cannot "
              "run on the GPU. Run it on the CPU: kerasette.config.set_device('cpu')"));
        d = Device::CPU;
        break;
      }
  if (d != device_) {  // buffers of the other device are dropped, made again on first use
    for (Node& n : nodes_) {
      n.out = n.grad = n.staging = Tensor();
      n.state.saved.clear();
      n.state.logits = Tensor();
    }
    coef_ = per_sample_ = scratch_ = sample_weight_ = Tensor();
    for (Tensor& t : scratch_bufs_) t = Tensor();
    for (Tensor& t : targets_) t = Tensor();
  }
  device_ = d;
  for (Layer* l : layers_) l->place_params(d);
  if (optimizer_) optimizer_->place(d);
}

void Graph::compile(std::vector<OutputLoss> losses, std::unique_ptr<Optimizer> optimizer) {
  KS_CHECK(losses.size() == outputs_.size(), "compile: expected ", outputs_.size(),
           " output losses, got ", losses.size());
  losses_ = std::move(losses);
  optimizer_ = std::move(optimizer);
  compiled_ = true;
  prepared_ = false;
  prepare();
  optimizer_->build(trainable_params());
}

void Graph::check_target(size_t o, const Shape& t) const {
  KS_CHECK(o < losses_.size(), "Graph: bad output index");
  const Shape& out = nodes_[outputs_[o]].shape;
  if (losses_[o].loss) losses_[o].loss->check_target(out, t);
  for (const auto& m : losses_[o].metrics) m->check_target(out, t);
}

// Derives per-node flags: which nodes need gradients, which outputs fuse their activation with
// the loss, and the size of the result accumulators.
void Graph::prepare() {
  for (Node& n : nodes_) {
    n.needs_grad = false;
    if (!n.layer) continue;
    if (n.layer->trainable)
      for (const Param& p : n.layer->params()) n.needs_grad = n.needs_grad || p.trainable;
    for (int i : n.inputs) n.needs_grad = n.needs_grad || nodes_[i].needs_grad;
  }
  for (Node& n : nodes_) n.state.loss_fused = false;
  for (size_t o = 0; o < losses_.size(); ++o) {
    Loss* loss = losses_[o].loss.get();
    if (!loss) continue;
    Node& n = nodes_[outputs_[o]];
    // Fusing replaces the gradient through the activation, so only an output feeding no other
    // layer (and produced once) can take the fused form.
    int uses = 0;
    for (int id : outputs_) uses += id == outputs_[o];
    loss->fused = n.layer && !n.has_consumers && uses == 1 &&
                  loss->fuses_with(n.layer->output_activation());
    n.state.loss_fused = loss->fused;
  }
  const size_t n_losses = 1 + (losses_.size() > 1 ? losses_.size() : 0);
  sum_offset_.clear();
  result_metric_.assign(n_losses, nullptr);
  size_t n_sums = 0;
  for (size_t r = 0; r < n_losses; ++r) sum_offset_.push_back(n_sums++);
  for (const OutputLoss& l : losses_)
    for (const auto& m : l.metrics) {
      sum_offset_.push_back(n_sums);
      result_metric_.push_back(m.get());
      n_sums += static_cast<size_t>(m->num_sums());
    }
  sums_.assign(n_sums, 0.0);
  counts_.assign(result_metric_.size(), 0.0);
  output_losses_.assign(losses_.size(), 0.0);
  grad_written_.assign(nodes_.size(), false);
  layer_grad_written_.assign(layers_.size(), 0);
  if (cuda_state_) reset_device_sums();
  prepared_ = true;
  place_on_device();
}

// Batch rows of `src` into `dst`: a view when they are contiguous (no copy), else a copy into
// `staging`, which keeps its storage across steps (a view in between never costs a reallocation).
static void gather_rows(const Tensor& src, const int64_t* index, int64_t begin, int64_t end,
                        Tensor& dst, Tensor& staging) {
  const int64_t n = end - begin;
  const int64_t row = src.dim(0) ? src.numel() / src.dim(0) : 0;
  Shape s = src.shape();
  s[0] = n;
  if (!index) {  // contiguous rows: a view, no copy
    dst = Tensor::view(const_cast<float*>(src.data()) + begin * row, s, nullptr);
    return;
  }
  staging.resize(s);
  dst = staging;
  const float* sp = src.data();
  float* dp = dst.data();
  parallel_for(n, chunk_for(n, std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(row, 1))),
               [&](int64_t b, int64_t e) {
                 for (int64_t i = b; i < e; ++i)
                   std::memcpy(dp + i * row, sp + index[begin + i] * row, sizeof(float) * row);
               });
}

void Graph::load_batch(const DataSet& data, int64_t begin, int64_t end, bool with_targets) {
  KS_CHECK(data.inputs.size() == input_nodes_.size(), "Expected ", input_nodes_.size(),
           " input arrays, got ", data.inputs.size());
  if (device_ == Device::CUDA) return load_batch_cuda(data, begin, end, with_targets);
  for (size_t i = 0; i < input_nodes_.size(); ++i)
    gather_rows(data.inputs[i], data.index, begin, end, nodes_[input_nodes_[i]].out,
                nodes_[input_nodes_[i]].staging);
  batch_ = end - begin;
  if (!with_targets) return;
  targets_.resize(outputs_.size());
  target_staging_.resize(outputs_.size());
  for (size_t o = 0; o < outputs_.size(); ++o) {
    if (!losses_[o].reads_targets()) continue;
    gather_rows(data.targets.at(o), data.index, begin, end, targets_[o], target_staging_[o]);
    // A loss checks its labels as it computes (CPU); metrics alone are checked before the step.
    if (!losses_[o].loss) check_target_values(o, targets_[o].data(), targets_[o].numel());
  }
  has_sample_weight_ = data.sample_weight.defined();
  if (has_sample_weight_)
    gather_rows(data.sample_weight, data.index, begin, end, sample_weight_, weight_staging_);
}

void Graph::forward(const StepContext& ctx) {
  std::vector<const Tensor*>& in = in_ptrs_;
  for (Node& n : nodes_) {
    if (!n.layer) continue;
    in.clear();
    for (int i : n.inputs) in.push_back(&nodes_[i].out);
    n.layer->forward(in, n.out, n.state, ctx);
  }
}

double Graph::compute_losses(bool with_grad) {
  const int64_t n = batch_;
  coef_.resize({n});
  per_sample_.resize({n});
  std::fill(grad_written_.begin(), grad_written_.end(), false);
  double total = 0.0;
  for (size_t o = 0; o < outputs_.size(); ++o) {
    OutputLoss& ol = losses_[o];
    if (!ol.loss) continue;
    Node& node = nodes_[outputs_[o]];
    const float base = ol.weight / static_cast<float>(n);
    for (int64_t i = 0; i < n; ++i)
      coef_.data()[i] = has_sample_weight_ ? base * sample_weight_.data()[i] : base;
    Act act;
    const Tensor* logits = output_logits(o, &act);
    Tensor* grad = nullptr;
    if (with_grad && node.needs_grad) {
      grad = grad_written_[outputs_[o]] ? &scratch_ : &node.grad;
    }
    ol.loss->compute(node.out, logits, targets_[o], coef_.data(), per_sample_.data(), grad);
    if (grad == &scratch_)
      cpu_kernels().axpy(node.grad.numel(), 1.0f, scratch_.data(), node.grad.data());
    if (grad) grad_written_[outputs_[o]] = true;
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i)
      sum += static_cast<double>(per_sample_.data()[i]) *
             (has_sample_weight_ ? sample_weight_.data()[i] : 1.0f);
    output_losses_[o] = sum / static_cast<double>(n);
    total += ol.weight * output_losses_[o];
  }
  // Activity regularizers: penalties on layer outputs, with their gradients. Keras (2 and 3)
  // divides each by the batch size, so their strength does not grow with the batch.
  for (size_t id = 0; id < nodes_.size(); ++id) {
    Node& node = nodes_[id];
    if (!node.layer || (node.layer->activity_l1 == 0 && node.layer->activity_l2 == 0)) continue;
    const float l1 = node.layer->activity_l1 / static_cast<float>(n);
    const float l2 = node.layer->activity_l2 / static_cast<float>(n);
    const float* y = node.out.data();
    double pen = 0.0;
    for (int64_t i = 0; i < node.out.numel(); ++i) pen += l1 * std::fabs(y[i]) + l2 * y[i] * y[i];
    total += pen;
    if (!with_grad || !node.needs_grad) continue;
    if (!grad_written_[id]) {
      node.grad.resize(node.out.shape());
      node.grad.fill(0.0f);
      grad_written_[id] = true;
    }
    float* g = node.grad.data();
    for (int64_t i = 0; i < node.out.numel(); ++i)
      g[i] += l1 * (y[i] > 0 ? 1.0f : (y[i] < 0 ? -1.0f : 0.0f)) + 2.0f * l2 * y[i];
  }
  return total;
}

void Graph::backward(const StepContext& base_ctx) {
  std::fill(layer_grad_written_.begin(), layer_grad_written_.end(), 0);
  std::vector<const Tensor*>& in = in_ptrs_;
  std::vector<Tensor*>& din = din_ptrs_;
  std::vector<int>& pending = pending_;  // input slots given scratch, added afterwards
  for (int id = static_cast<int>(nodes_.size()) - 1; id >= 0; --id) {
    Node& n = nodes_[id];
    if (!n.layer || !grad_written_[id] || !n.needs_grad) continue;
    in.clear();
    din.clear();
    pending.clear();
    // Sized before any pointer into it is taken: growing it later would move the tensors.
    scratch_bufs_resize(n.inputs.size());
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      const int src = n.inputs[k];
      in.push_back(&nodes_[src].out);
      if (!nodes_[src].needs_grad) {
        din.push_back(nullptr);
      } else if (!grad_written_[src]) {
        din.push_back(&nodes_[src].grad);
        grad_written_[src] = true;
      } else {
        din.push_back(&scratch_bufs_[k]);
        pending.push_back(static_cast<int>(k));
      }
    }
    size_t li = 0;
    while (layers_[li] != n.layer.get()) ++li;
    StepContext ctx = base_ctx;
    ctx.accumulate_param_grads = layer_grad_written_[li] != 0;
    n.layer->backward(in, n.out, n.grad, din, n.state, ctx);
    layer_grad_written_[li] = 1;
    for (int k : pending) {
      Tensor& g = nodes_[n.inputs[k]].grad;
      axpy_on(g.device(), g.numel(), 1.0f, scratch_bufs_[k].data(), g.data());
    }
  }
  // Layers that no gradient reached this step get zero gradients, never stale ones.
  for (size_t li = 0; li < layers_.size(); ++li)
    if (!layer_grad_written_[li] && layers_[li]->trainable)
      for (Param& p : layers_[li]->params())
        if (p.trainable) p.grad.fill(0.0f);
}

double Graph::regularization(bool add_grads) {
  double total = 0.0;
  for (Layer* l : layers_)
    for (Param& p : l->params()) {
      if (p.l1 == 0 && p.l2 == 0) continue;
      const float* w = p.value.data();
      double pen = 0.0;
      for (int64_t i = 0; i < p.value.numel(); ++i)
        pen += p.l1 * std::fabs(w[i]) + p.l2 * w[i] * w[i];
      total += pen;
      if (add_grads && l->trainable && p.trainable) {
        float* g = p.grad.data();
        for (int64_t i = 0; i < p.value.numel(); ++i)
          g[i] += p.l1 * (w[i] > 0 ? 1.0f : (w[i] < 0 ? -1.0f : 0.0f)) + 2.0f * p.l2 * w[i];
      }
    }
  return total;
}

void Graph::accumulate(double total_loss) {
  const double n = static_cast<double>(batch_);
  size_t r = 0;
  sums_[r] += total_loss * n;
  counts_[r++] += n;
  if (losses_.size() > 1)
    for (size_t o = 0; o < losses_.size(); ++o) {
      sums_[r] += output_losses_[o] * n;
      counts_[r++] += n;
    }
  for (size_t o = 0; o < losses_.size(); ++o) {
    Act act = Act::Linear;
    const Tensor* logits = losses_[o].metrics.empty() ? nullptr : output_logits(o, &act);
    const Tensor& out = nodes_[outputs_[o]].out;
    for (auto& m : losses_[o].metrics) {
      const float* w = m->weighted && has_sample_weight_ ? sample_weight_.data() : nullptr;
      m->accumulate(out, logits, act, targets_[o], w, &sums_[sum_offset_[r]]);
      counts_[r++] += n;
    }
  }
}

void Graph::check_target_values(size_t o, const float* target, int64_t count) const {
  const Shape& s = nodes_[outputs_[o]].shape;
  const int64_t classes = s.empty() ? 1 : s.back();
  if (losses_[o].loss) return losses_[o].loss->check_target_values(target, count, classes);
  for (const auto& m : losses_[o].metrics) m->check_target_values(target, count, classes);
}

const Tensor* Graph::output_logits(size_t o, Act* act) {
  Node& node = nodes_[outputs_[o]];
  *act = Act::Linear;
  if (!node.layer) return nullptr;
  in_ptrs_.clear();
  for (int i : node.inputs) in_ptrs_.push_back(&nodes_[i].out);
  *act = node.layer->output_activation();
  return node.layer->output_logits(in_ptrs_, node.state);
}

void Graph::train_batches(const DataSet& data, int64_t batch_size, int64_t first, int64_t count) {
  KS_CHECK(compiled_, "You must call `compile()` before training the model.");
  if (!prepared_) prepare();
  place_on_device();
  const int64_t n = data.size();
  std::vector<Param*> params = trainable_params();
  for (int64_t b = first; b < first + count; ++b) {
    const int64_t begin = b * batch_size, end = std::min(n, begin + batch_size);
    if (begin >= end) break;
    load_batch(data, begin, end, true);
    StepContext ctx;
    ctx.training = true;
    ctx.step = static_cast<uint64_t>(optimizer_->iterations);
    forward(ctx);
    if (device_ == Device::CUDA) {
      losses_cuda(true);
      backward(ctx);
      regularization_cuda(true);
      optimizer_->apply(params);
      accumulate_cuda();
      continue;
    }
    double loss = compute_losses(true);
    backward(ctx);
    loss += regularization(true);
    optimizer_->apply(params);
    accumulate(loss);
  }
}

void Graph::test_batches(const DataSet& data, int64_t batch_size, int64_t first, int64_t count) {
  KS_CHECK(compiled_, "You must call `compile()` before evaluating the model.");
  if (!prepared_) prepare();
  place_on_device();
  const int64_t n = data.size();
  for (int64_t b = first; b < first + count; ++b) {
    const int64_t begin = b * batch_size, end = std::min(n, begin + batch_size);
    if (begin >= end) break;
    load_batch(data, begin, end, true);
    StepContext ctx;
    forward(ctx);
    if (device_ == Device::CUDA) {
      losses_cuda(false);
      regularization_cuda(false);
      accumulate_cuda();
      continue;
    }
    double loss = compute_losses(false) + regularization(false);
    accumulate(loss);
  }
}

void Graph::forward_rows(const DataSet& data, int64_t begin, int64_t end, bool training) {
  load_batch(data, begin, end, false);
  StepContext ctx;
  ctx.training = training;
  ctx.step = optimizer_ ? static_cast<uint64_t>(optimizer_->iterations) : 0;
  forward(ctx);
}

void Graph::predict(const DataSet& data, int64_t batch_size, std::vector<Tensor>& outputs,
                    bool training) {
  KS_CHECK(outputs.size() == outputs_.size(), "predict: expected ", outputs_.size(), " outputs");
  const int64_t n = data.size();
  if (!prepared_) prepare();
  place_on_device();
  for (int64_t begin = 0; begin < n; begin += batch_size) {
    const int64_t end = std::min(n, begin + batch_size);
    forward_rows(data, begin, end, training);
    for (size_t o = 0; o < outputs_.size(); ++o) {
      const Tensor& y = nodes_[outputs_[o]].out;
      const int64_t row = y.numel() / (end - begin);
      y.copy_to_host(outputs[o].data() + begin * row);
    }
  }
}

void Graph::predict_batch(const DataSet& data) {
  KS_CHECK(data.size() > 0, "predict: no samples");
  if (!prepared_) prepare();
  place_on_device();
  forward_rows(data, 0, data.size(), false);
}

std::vector<double> Graph::results() const {
  std::vector<double> sums = sums_;
  if (cuda_state_) {
    const std::vector<double> dev = device_sums();
    for (size_t i = 0; i < sums.size() && i < dev.size(); ++i) sums[i] += dev[i];
  }
  std::vector<double> out(counts_.size());
  for (size_t r = 0; r < counts_.size(); ++r) {
    const double* s = &sums[sum_offset_[r]];
    out[r] = result_metric_[r] ? result_metric_[r]->result(s, counts_[r])
                               : (counts_[r] > 0 ? s[0] / counts_[r] : 0.0);
  }
  return out;
}

void Graph::reset_metrics() {
  std::fill(sums_.begin(), sums_.end(), 0.0);
  std::fill(counts_.begin(), counts_.end(), 0.0);
  if (cuda_state_) reset_device_sums();
}

}  // namespace kerasette

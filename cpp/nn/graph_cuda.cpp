// The CUDA half of the graph executor (see graph.h): what a step does differently when the graph's
// device is CUDA. Forward and backward are shared with the CPU path (layers dispatch on their
// tensors' device); here are the batch upload and the loss/metric/penalty accumulation, which on
// the GPU go into device-side double sums so that a step never waits for the device.
#include "nn/graph.h"

#include <cstring>

#include "core/parallel.h"
#include "ops/device_ops.h"
#ifdef KERASETTE_WITH_CUDA
#include "core/cuda_allocator.h"
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace kerasette {

#ifdef KERASETTE_WITH_CUDA

namespace {

struct CudaState {
  // Two pinned buffers: the host gathers batch t + 1 into one while batch t's copy leaves the
  // other.
  cuda::HostStaging staging[2];
  int next = 0;
  Tensor batch;  // the device copy of the whole batch: inputs, then targets, then weights
  Tensor sums;   // the epoch sums as doubles (two floats of storage per double)
  size_t n_sums = 0;
};

CudaState& state_of(std::shared_ptr<void>& p) {
  if (!p) p = std::make_shared<CudaState>();
  return *static_cast<CudaState*>(p.get());
}

struct Part {
  const Tensor* src;
  int64_t row;     // floats per sample
  int64_t offset;  // in the batch buffer
};

}  // namespace

void Graph::load_batch_cuda(const DataSet& data, int64_t begin, int64_t end, bool with_targets) {
  CudaState& st = state_of(cuda_state_);
  const int64_t n = end - begin;
  batch_ = n;
  std::vector<Part> parts;
  int64_t total = 0;
  auto add = [&](const Tensor& src) {
    const int64_t row = src.dim(0) ? src.numel() / src.dim(0) : 0;
    parts.push_back({&src, row, total});
    total += row * n;
  };
  for (size_t i = 0; i < input_nodes_.size(); ++i) add(data.inputs[i]);
  const size_t first_target = parts.size();
  has_sample_weight_ = false;
  if (with_targets) {
    for (size_t o = 0; o < outputs_.size(); ++o)
      if (losses_[o].reads_targets()) add(data.targets.at(o));
    has_sample_weight_ = data.sample_weight.defined();
    if (has_sample_weight_) add(data.sample_weight);
  }
  float* host = st.staging[st.next].get(static_cast<size_t>(total > 0 ? total : 1));
  parallel_for(n, chunk_for(n, 64), [&](int64_t b, int64_t e) {
    for (const Part& p : parts)
      for (int64_t i = b; i < e; ++i) {
        const int64_t src_row = data.index ? data.index[begin + i] : begin + i;
        std::memcpy(host + p.offset + i * p.row, p.src->data() + src_row * p.row,
                    sizeof(float) * p.row);
      }
  });
  // Values the device cannot reject (integer labels) are checked here, on the host copy.
  if (with_targets) {
    size_t k = first_target;
    for (size_t o = 0; o < outputs_.size(); ++o) {
      if (!losses_[o].reads_targets()) continue;
      check_target_values(o, host + parts[k].offset, parts[k].row * n);
      ++k;
    }
  }
  st.batch.resize({total > 0 ? total : 1}, Device::CUDA);
  st.staging[st.next].send(st.batch.data(), static_cast<size_t>(total));
  st.next ^= 1;

  auto view = [&](const Part& p) {
    Shape s = p.src->shape();
    s[0] = n;
    return Tensor::view(st.batch.data() + p.offset, s, nullptr, Device::CUDA);
  };
  size_t k = 0;
  for (size_t i = 0; i < input_nodes_.size(); ++i) nodes_[input_nodes_[i]].out = view(parts[k++]);
  if (!with_targets) return;
  targets_.resize(outputs_.size());
  for (size_t o = 0; o < outputs_.size(); ++o)
    if (losses_[o].reads_targets()) targets_[o] = view(parts[k++]);
  if (has_sample_weight_) sample_weight_ = view(parts[k++]);
}

static double* device_sums_ptr(CudaState& st, size_t n) {
  if (st.n_sums != n) {
    st.sums.resize({static_cast<int64_t>(2 * (n > 0 ? n : 1))}, Device::CUDA);
    cuda::memset_zero(st.sums.data(), sizeof(double) * n);
    st.n_sums = n;
  }
  return reinterpret_cast<double*>(st.sums.data());
}

void Graph::losses_cuda(bool with_grad) {
  CudaState& st = state_of(cuda_state_);
  double* sums = device_sums_ptr(st, sums_.size());
  const int64_t n = batch_;
  coef_.resize({n}, Device::CUDA);
  per_sample_.resize({n}, Device::CUDA);
  const float* sw = has_sample_weight_ ? sample_weight_.data() : nullptr;
  std::fill(grad_written_.begin(), grad_written_.end(), false);
  for (size_t o = 0; o < outputs_.size(); ++o) {
    OutputLoss& ol = losses_[o];
    if (!ol.loss) continue;
    Node& node = nodes_[outputs_[o]];
    cuda::loss_coefficients(coef_.data(), sw, n, ol.weight / static_cast<float>(n));
    Act act;
    const Tensor* logits = output_logits(o, &act);
    Tensor* grad = nullptr;
    if (with_grad && node.needs_grad) grad = grad_written_[outputs_[o]] ? &scratch_ : &node.grad;
    ol.loss->compute(node.out, logits, targets_[o], coef_.data(), per_sample_.data(), grad);
    if (grad == &scratch_) cuda::axpy(node.grad.numel(), 1.0f, scratch_.data(), node.grad.data());
    if (grad) grad_written_[outputs_[o]] = true;
    // As the CPU's accumulate(): sums[0] += weight * sum_i loss_i w_i; per-output sums beside.
    cuda::weighted_sum_into(per_sample_.data(), sw, n, ol.weight, sums);
    if (losses_.size() > 1) cuda::weighted_sum_into(per_sample_.data(), sw, n, 1.0, sums + 1 + o);
  }
  for (size_t id = 0; id < nodes_.size(); ++id) {
    Node& node = nodes_[id];
    if (!node.layer || (node.layer->activity_l1 == 0 && node.layer->activity_l2 == 0)) continue;
    float* g = nullptr;
    if (with_grad && node.needs_grad) {
      if (!grad_written_[id]) {
        node.grad.resize(node.out.shape(), Device::CUDA);
        node.grad.fill(0.0f);
        grad_written_[id] = true;
      }
      g = node.grad.data();
    }
    // Divided by the batch size exactly as on the CPU (Keras's rule); the sums hold n times the
    // mean.
    const float nf = static_cast<float>(n);
    cuda::penalty_into(node.out.data(), g, node.out.numel(), node.layer->activity_l1 / nf,
                       node.layer->activity_l2 / nf, static_cast<double>(n), sums);
  }
}

void Graph::regularization_cuda(bool add_grads) {
  CudaState& st = state_of(cuda_state_);
  double* sums = device_sums_ptr(st, sums_.size());
  for (Layer* l : layers_)
    for (Param& p : l->params()) {
      if (p.l1 == 0 && p.l2 == 0) continue;
      float* g = (add_grads && l->trainable && p.trainable) ? p.grad.data() : nullptr;
      cuda::penalty_into(p.value.data(), g, p.value.numel(), p.l1, p.l2,
                         static_cast<double>(batch_), sums);
    }
}

void Graph::accumulate_cuda() {
  CudaState& st = state_of(cuda_state_);
  double* sums = device_sums_ptr(st, sums_.size());
  const double n = static_cast<double>(batch_);
  size_t r = 0;
  counts_[r++] += n;
  if (losses_.size() > 1)
    for (size_t o = 0; o < losses_.size(); ++o) counts_[r++] += n;
  for (size_t o = 0; o < losses_.size(); ++o) {
    Act act = Act::Linear;
    const Tensor* logits = losses_[o].metrics.empty() ? nullptr : output_logits(o, &act);
    for (auto& m : losses_[o].metrics) {
      const float* w = m->weighted && has_sample_weight_ ? sample_weight_.data() : nullptr;
      m->accumulate(nodes_[outputs_[o]].out, logits, act, targets_[o], w, sums + sum_offset_[r]);
      counts_[r++] += n;
    }
  }
}

std::vector<double> Graph::device_sums() const {
  const CudaState& st = *static_cast<const CudaState*>(cuda_state_.get());
  std::vector<double> out(st.n_sums, 0.0);
  if (st.n_sums) cuda::copy(out.data(), st.sums.data(), sizeof(double) * st.n_sums);
  return out;
}

void Graph::reset_device_sums() {
  CudaState& st = state_of(cuda_state_);
  if (st.n_sums) cuda::memset_zero(st.sums.data(), sizeof(double) * st.n_sums);
}

#else  // CPU-only build: set_device refuses CUDA, so none of these is ever reached.

void Graph::load_batch_cuda(const DataSet&, int64_t, int64_t, bool) { no_cuda_build("graph"); }
void Graph::losses_cuda(bool) { no_cuda_build("graph"); }
void Graph::regularization_cuda(bool) { no_cuda_build("graph"); }
void Graph::accumulate_cuda() { no_cuda_build("graph"); }
std::vector<double> Graph::device_sums() const { return {}; }
void Graph::reset_device_sums() {}

#endif  // KERASETTE_WITH_CUDA

}  // namespace kerasette

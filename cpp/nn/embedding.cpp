// Embedding: out[..., :] = embeddings[int(x[...]), :]. Indices arrive as float32 (like sparse
// labels) and are checked on the host before any read: integers in [0, input_dim), else ValueError.
//
// The table gradient is a scatter-add of dy rows by index. To keep the bits independent of the
// thread count (and of the CUDA launch), the batch is first grouped by table row with a stable
// counting sort; each touched row then sums its dy rows in batch order, one row per task. The
// grouping touches only the rows the batch reads, and its buffers are kept between steps.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "core/parallel.h"
#include "nn/layer_registry.h"
#include "nn/shape_text.h"
#include "ops/device_ops.h"
#ifdef KERASETTE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace kerasette {

namespace {

// The batch grouped by table row: positions[offsets[u] .. offsets[u + 1]) are the batch rows
// that read table row row_ids[u], ascending; rows in the order the batch first reads them.
struct IndexGroups {
  std::vector<int32_t> row_ids, offsets, positions;
  std::vector<int32_t> cursor;  // per table row; all zero between calls

  void build(const float* idx, int64_t n, int64_t vocab) {
    cursor.resize(static_cast<size_t>(vocab), 0);
    row_ids.clear();
    for (int64_t r = 0; r < n; ++r) {
      const int64_t v = static_cast<int64_t>(idx[r]);
      if (cursor[v]++ == 0) row_ids.push_back(static_cast<int32_t>(v));
    }
    offsets.resize(row_ids.size() + 1);
    int32_t start = 0;
    for (size_t u = 0; u < row_ids.size(); ++u) {  // counts become each row's first position
      offsets[u] = start;
      start += std::exchange(cursor[row_ids[u]], start);
    }
    offsets.back() = start;
    positions.resize(static_cast<size_t>(n));
    for (int64_t r = 0; r < n; ++r)
      positions[cursor[static_cast<int64_t>(idx[r])]++] = static_cast<int32_t>(r);
    for (int32_t v : row_ids) cursor[v] = 0;
  }
};

}  // namespace

class EmbeddingLayer : public Layer {
 public:
  EmbeddingLayer(const std::string& name, const Attrs& a)
      : Layer(name), input_dim_(a.get_int("input_dim")), output_dim_(a.get_int("output_dim")) {
    KS_CHECK(input_dim_ > 0 && output_dim_ > 0, "Layer '", name,
             "': input_dim and output_dim must be positive");
    KS_CHECK(input_dim_ < (int64_t{1} << 24), "Layer '", name,
             "': input_dim must be below 2**24 "
             "(indices are passed as float32). Received: input_dim=",
             input_dim_);
  }

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1) shape_error("expects exactly one input");
    if (params_.empty()) add_param("embeddings", {input_dim_, output_dim_});
    Shape out = in[0];
    out.push_back(output_dim_);
    return out;
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState& st,
               const StepContext&) override {
    const Tensor& x = *in[0];
    Shape os = x.shape();
    os.push_back(output_dim_);
    out.resize(os, x.device());
    const int64_t n = x.numel();
    const float* table = params_[0].value.data();
    if (x.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      // The host copy is checked, and kept (per node: the layer may be shared) for backward.
      if (st.saved.size() < 4) st.saved.resize(4);
      Tensor& host = st.saved[3];
      host.resize({n}, Device::CPU);
      if (n) x.copy_to_host(host.data());
      check_indices(host.data(), n);
      return cuda::embedding_gather(x.data(), table, out.data(), n, output_dim_);
#else
      (void)st;
      no_cuda_build("Embedding");
#endif
    }
    const float* idx = x.data();
    check_indices(idx, n);
    float* y = out.data();
    const int64_t d = output_dim_;
    parallel_for(n, chunk_for(n, std::max<int64_t>(1, 16384 / d)), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        std::memcpy(y + r * d, table + static_cast<int64_t>(idx[r]) * d, sizeof(float) * d);
    });
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState& st, const StepContext& ctx) override {
    const Tensor& x = *in[0];
    if (din[0]) {  // indices are not differentiable
      din[0]->resize(x.shape(), x.device());
      din[0]->fill(0.0f);
    }
    if (!trainable) return;
    const int64_t n = x.numel(), d = output_dim_;
    Tensor& grad = params_[0].grad;
    if (!ctx.accumulate_param_grads) grad.fill(0.0f);
    if (n == 0) return;
    IndexGroups& g = groups_;
    if (x.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      g.build(st.saved[3].data(), n, input_dim_);  // forward's host copy of these indices
      // The int32 groups travel in float tensors' storage, bit for bit (kernels never allocate).
      const int32_t* dev[3];
      const std::vector<int32_t>* parts[3] = {&g.row_ids, &g.offsets, &g.positions};
      for (int i = 0; i < 3; ++i) {  // none is empty: n > 0
        st.saved[i].resize({static_cast<int64_t>(parts[i]->size())}, Device::CUDA);
        st.saved[i].copy_from_host(reinterpret_cast<const float*>(parts[i]->data()));
        dev[i] = reinterpret_cast<const int32_t*>(st.saved[i].data());
      }
      cuda::embedding_scatter_add(dout.data(), dev[0], dev[1], dev[2], grad.data(),
                                  static_cast<int64_t>(g.row_ids.size()), d);
      return;
#else
      (void)st;
      no_cuda_build("Embedding");
#endif
    }
    g.build(x.data(), n, input_dim_);
    const float* dy = dout.data();
    float* gp = grad.data();
    const int64_t touched = static_cast<int64_t>(g.row_ids.size());
    parallel_for(touched, chunk_for(touched, std::max<int64_t>(1, 4096 / d)),
                 [&](int64_t u0, int64_t u1) {
                   for (int64_t u = u0; u < u1; ++u) {
                     float* __restrict row = gp + static_cast<int64_t>(g.row_ids[u]) * d;
                     for (int32_t p = g.offsets[u]; p < g.offsets[u + 1]; ++p) {
                       const float* __restrict s = dy + static_cast<int64_t>(g.positions[p]) * d;
                       for (int64_t c = 0; c < d; ++c) row[c] += s[c];
                     }
                   }
                 });
  }

  bool supports(Device) const override { return true; }

 private:
  void check_indices(const float* idx, int64_t n) const {
    for (int64_t r = 0; r < n; ++r) {
      const float v = idx[r];
      KS_CHECK(v >= 0 && v < static_cast<float>(input_dim_), "Embedding '", name_,
               "' received an index of ", v, " which is outside the valid range of [0, ",
               input_dim_, ") (`input_dim`)");
      KS_CHECK(v == std::floor(v), "Embedding '", name_,
               "' expects integer indices. Received: ", v);
    }
  }

  int64_t input_dim_, output_dim_;
  IndexGroups groups_;  // built and used within one backward call
};
KS_REGISTER_LAYER("embedding", EmbeddingLayer);

}  // namespace kerasette

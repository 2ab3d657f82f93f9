// Permute: reorders the per-sample axes (Keras's Permute layer; also the NCHW <-> NHWC conversion
// the channels_first spatial layers wrap around their channels_last computation).
#include "core/parallel.h"
#include "nn/layer_registry.h"
#include "ops/device_ops.h"
#ifdef KERASETTE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace kerasette {

namespace {

constexpr size_t kCudaMaxRank = 8;  // cuda::kMaxPermuteRank
#ifdef KERASETTE_WITH_CUDA
static_assert(cuda::kMaxPermuteRank == static_cast<int>(kCudaMaxRank));
#endif

// dst[i0, i1, ...] = src[...] with dst axis k reading src axis dims[k], for one sample.
void permute_sample(const float* src, float* dst, const Shape& in, const std::vector<int64_t>& dims,
                    bool inverse) {
  const size_t r = in.size();
  Shape in_strides(r, 1);
  for (size_t k = r; k > 1; --k) in_strides[k - 2] = in_strides[k - 1] * in[k - 1];  // r may be 0
  // Walk the destination in order; `stride[k]` is the source step for destination axis k.
  Shape out(r), stride(r);
  for (size_t k = 0; k < r; ++k) {
    const size_t from = static_cast<size_t>(dims[k]);
    out[k] = in[from];
    stride[k] = in_strides[from];
  }
  const int64_t n = shape_numel(in);
  Shape idx(r, 0);
  int64_t offset = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (inverse)
      dst[offset] = src[i];
    else
      dst[i] = src[offset];
    for (size_t k = r; k-- > 0;) {  // advance the multi-index like an odometer
      offset += stride[k];
      if (++idx[k] < out[k]) break;
      offset -= stride[k] * out[k];
      idx[k] = 0;
    }
  }
}

}  // namespace

class PermuteLayer : public Layer {
 public:
  PermuteLayer(const std::string& name, const Attrs& a) : Layer(name), dims_(a.get_ints("dims")) {}

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1) shape_error("expects exactly one input");
    const Shape& s = in[0];
    std::vector<bool> seen(s.size(), false);
    bool ok = dims_.size() == s.size();
    for (int64_t d : dims_) {
      ok = ok && d >= 0 && d < static_cast<int64_t>(s.size()) && !seen[d];
      if (ok) seen[d] = true;
    }
    if (!ok)
      shape_error(str_cat("`dims` must be a permutation of the ", s.size(),
                          " non-batch axes of an input of per-sample shape ", shape_str(s)));
    in_ = s;
    Shape out(s.size());
    for (size_t k = 0; k < s.size(); ++k) out[k] = s[dims_[k]];
    return out;
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState&,
               const StepContext&) override {
    run(*in[0], out, false);
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState&, const StepContext&) override {
    if (din[0]) run(dout, *din[0], true);
  }
  bool supports(Device d) const override { return d == Device::CPU || in_.size() <= kCudaMaxRank; }

 private:
  // Forward maps x (input layout) to y; backward scatters dy back into the input layout.
  void run(const Tensor& src, Tensor& dst, bool inverse) const {
    const int64_t batch = src.dim(0), per = shape_numel(in_);
    Shape s{batch};
    for (size_t k = 0; k < in_.size(); ++k) s.push_back(inverse ? in_[k] : in_[dims_[k]]);
    dst.resize(s, src.device());
    if (src.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      return cuda::permute(src.data(), dst.data(), batch, in_.data(), dims_.data(),
                           static_cast<int>(in_.size()), inverse);
#else
      no_cuda_build("Permute");
#endif
    }
    parallel_for(batch, chunk_for(batch, std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(per, 1))),
                 [&](int64_t b0, int64_t b1) {
                   for (int64_t b = b0; b < b1; ++b)
                     permute_sample(src.data() + b * per, dst.data() + b * per, in_, dims_,
                                    inverse);
                 });
  }

  std::vector<int64_t> dims_;
  Shape in_;
};

KS_REGISTER_LAYER("permute", PermuteLayer);

}  // namespace kerasette

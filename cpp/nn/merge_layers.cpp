// Layers that combine several inputs: elementwise merges (Add, Subtract, Multiply, Average,
// Maximum, Minimum), Concatenate along an axis, and Dot of two vectors per sample.
#include <array>
#include <cmath>
#include <cstring>

#include "core/parallel.h"
#include "nn/layer_registry.h"
#include "ops/device_ops.h"
#ifdef KERASETTE_WITH_CUDA
#include "core/cuda_allocator.h"
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace kerasette {

namespace {

constexpr int64_t kGrain = 1 << 15;
constexpr size_t kCudaMaxInputs = 16;  // cuda::kMaxMergeInputs

// In the order of cuda::MergeKind, which the GPU path casts to.
enum class MergeOp { Add, Subtract, Multiply, Average, Maximum, Minimum };

#ifdef KERASETTE_WITH_CUDA
static_assert(cuda::kMaxMergeInputs == static_cast<int>(kCudaMaxInputs));
static_assert(static_cast<int>(MergeOp::Minimum) == static_cast<int>(cuda::MergeKind::Minimum));
#endif

// The inputs' data pointers for the GPU kernels, without a heap allocation per call.
std::array<const float*, kCudaMaxInputs> data_of(const std::vector<const Tensor*>& in) {
  std::array<const float*, kCudaMaxInputs> p{};
  for (size_t j = 0; j < in.size() && j < p.size(); ++j) p[j] = in[j]->data();
  return p;
}

MergeOp parse_merge(const std::string& op) {
  if (op == "add") return MergeOp::Add;
  if (op == "subtract") return MergeOp::Subtract;
  if (op == "multiply") return MergeOp::Multiply;
  if (op == "average") return MergeOp::Average;
  if (op == "maximum") return MergeOp::Maximum;
  if (op == "minimum") return MergeOp::Minimum;
  fail("Unknown merge operation '", op, "'");
}

}  // namespace

class MergeLayer : public Layer {
 public:
  MergeLayer(const std::string& name, const Attrs& a)
      : Layer(name), op_(parse_merge(a.get_str("op", "add"))) {}

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() < 2) shape_error(str_cat("expects at least 2 inputs, received ", in.size()));
    if (op_ == MergeOp::Subtract && in.size() != 2)
      shape_error(str_cat("Subtract expects exactly 2 inputs, received ", in.size()));
    for (size_t i = 1; i < in.size(); ++i)
      if (in[i] != in[0])
        shape_error("inputs must have the same shape; received shapes " +
                    shape_str(prepend(in[0])) + " and " + shape_str(prepend(in[i])));
    inputs_ = in.size();
    return in[0];
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState&,
               const StepContext&) override {
    out.resize(in[0]->shape(), in[0]->device());
    const int64_t n = out.numel();
    const size_t k = in.size();
    if (out.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      return cuda::merge_forward(static_cast<cuda::MergeKind>(op_), data_of(in).data(),
                                 static_cast<int>(k), out.data(), n);
#else
      no_cuda_build("merge");
#endif
    }
    float* y = out.data();
    parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        float acc = in[0]->data()[i];
        for (size_t j = 1; j < k; ++j) {
          const float v = in[j]->data()[i];
          switch (op_) {
            case MergeOp::Add:
            case MergeOp::Average: acc += v; break;
            case MergeOp::Subtract: acc -= v; break;
            case MergeOp::Multiply: acc *= v; break;
            case MergeOp::Maximum: acc = std::fmax(acc, v); break;
            case MergeOp::Minimum: acc = std::fmin(acc, v); break;
          }
        }
        y[i] = op_ == MergeOp::Average ? acc / static_cast<float>(k) : acc;
      }
    });
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState&, const StepContext&) override {
    const int64_t n = out.numel();
    const size_t k = in.size();
    for (size_t j = 0; j < k; ++j) {
      if (!din[j]) continue;
      din[j]->resize(in[j]->shape(), in[j]->device());
      float* dx = din[j]->data();
      const float* dy = dout.data();
      if (dout.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
        cuda::merge_backward(static_cast<cuda::MergeKind>(op_), data_of(in).data(),
                             static_cast<int>(k), static_cast<int>(j), out.data(), dy, dx, n);
        continue;
#else
        no_cuda_build("merge");
#endif
      }
      parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          float g = dy[i];
          switch (op_) {
            case MergeOp::Add: break;
            case MergeOp::Average: g /= static_cast<float>(k); break;
            case MergeOp::Subtract: g = j == 0 ? g : -g; break;
            case MergeOp::Multiply:
              for (size_t m = 0; m < k; ++m)
                if (m != j) g *= in[m]->data()[i];
              break;
            case MergeOp::Maximum:
            case MergeOp::Minimum: {
              // The gradient goes to the first input that holds the winning value.
              size_t winner = 0;
              for (size_t m = 0; m < k; ++m)
                if (in[m]->data()[i] == out.data()[i]) {
                  winner = m;
                  break;
                }
              g = winner == j ? g : 0.0f;
              break;
            }
          }
          dx[i] = g;
        }
      });
    }
  }

  bool supports(Device d) const override { return d == Device::CPU || inputs_ <= kCudaMaxInputs; }

 private:
  static Shape prepend(const Shape& s) {
    Shape out{-1};
    out.insert(out.end(), s.begin(), s.end());
    return out;
  }
  MergeOp op_;
  size_t inputs_ = 0;
};
KS_REGISTER_LAYER("merge", MergeLayer);

// Concatenate along a per-sample axis (axis counts the batch axis as Keras does; -1 = last).
class ConcatenateLayer : public Layer {
 public:
  ConcatenateLayer(const std::string& name, const Attrs& a)
      : Layer(name), axis_(a.get_int("axis", -1)) {}

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() < 2) shape_error(str_cat("expects at least 2 inputs, received ", in.size()));
    const int64_t rank = static_cast<int64_t>(in[0].size()) + 1;  // with the batch axis
    int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    if (axis < 1 || axis >= rank)
      shape_error(str_cat("axis ", axis_, " is out of range for inputs of rank ", rank));
    // Checked before anything is stored: a rejected call must leave the layer as it was.
    const int64_t ax = axis - 1;
    std::vector<int64_t> sizes;
    Shape out = in[0];
    out[ax] = 0;
    for (const Shape& s : in) {
      bool ok = s.size() == in[0].size();
      for (size_t d = 0; ok && d < s.size(); ++d)
        ok = static_cast<int64_t>(d) == ax || s[d] == in[0][d];
      if (!ok)
        shape_error("a `Concatenate` layer requires inputs with matching shapes except for the "
                    "concatenation axis. Received: input_shape=" +
                    shape_str(in[0]) + " and " + shape_str(s));
      out[ax] += s[ax];
      sizes.push_back(s[ax]);
    }
    ax_ = ax;
    sizes_ = std::move(sizes);
    inner_ = 1;
    for (size_t d = ax_ + 1; d < out.size(); ++d) inner_ *= out[d];
    return out;
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState&,
               const StepContext&) override {
    Shape s = in[0]->shape();
    int64_t total = 0;
    for (int64_t v : sizes_) total += v;
    s[ax_ + 1] = total;
    out.resize(s, in[0]->device());
    copy_blocks(in, out, true, {});
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState&, const StepContext&) override {
    for (size_t j = 0; j < in.size(); ++j)
      if (din[j]) din[j]->resize(in[j]->shape(), in[j]->device());
    copy_blocks(in, const_cast<Tensor&>(dout), false, din);
  }
  bool supports(Device) const override { return true; }

 private:
  // Moves each input's block of `size * inner` values per outer row into or out of the output.
  void copy_blocks(const std::vector<const Tensor*>& in, Tensor& out, bool gather,
                   const std::vector<Tensor*>& din) const {
    int64_t total = 0;
    for (int64_t v : sizes_) total += v;
    const int64_t row = total * inner_;
    const int64_t outer = row ? out.numel() / row : 0;
    if (out.device() == Device::CUDA) {  // one strided device copy per input
#ifdef KERASETTE_WITH_CUDA
      int64_t offset = 0;
      for (size_t j = 0; j < in.size(); ++j) {
        const int64_t block = sizes_[j] * inner_;
        const size_t f = sizeof(float);
        if (gather)
          cuda::copy_rows(out.data() + offset, row * f, in[j]->data(), block * f, block * f, outer);
        else if (din[j])
          cuda::copy_rows(din[j]->data(), block * f, out.data() + offset, row * f, block * f, outer);
        offset += block;
      }
      return;
#else
      no_cuda_build("concatenate");
#endif
    }
    parallel_for(outer, chunk_for(outer, 256), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        int64_t offset = 0;
        for (size_t j = 0; j < in.size(); ++j) {
          const int64_t block = sizes_[j] * inner_;
          if (gather)
            std::memcpy(out.data() + o * row + offset, in[j]->data() + o * block,
                        sizeof(float) * block);
          else if (din[j])
            std::memcpy(din[j]->data() + o * block, out.data() + o * row + offset,
                        sizeof(float) * block);
          offset += block;
        }
      }
    });
  }
  int64_t axis_, ax_ = 0, inner_ = 1;
  std::vector<int64_t> sizes_;
};
KS_REGISTER_LAYER("concatenate", ConcatenateLayer);

// Dot of two (batch, d) inputs along their feature axis: (batch, 1).
class DotLayer : public Layer {
 public:
  DotLayer(const std::string& name, const Attrs& a)
      : Layer(name), normalize_(a.get_bool("normalize", false)) {}

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 2 || in[0].size() != 1 || in[0] != in[1])
      shape_error("Dot supports two inputs of the same shape (batch, features)");
    if (normalize_) shape_error("Dot(normalize=True) is not supported yet");
    return {1};
  }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState&,
               const StepContext&) override {
    const int64_t n = in[0]->dim(0), d = in[0]->dim(1);
    out.resize({n, 1}, in[0]->device());
    if (out.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      return cuda::dot_rows(in[0]->data(), in[1]->data(), out.data(), n, d);
#else
      no_cuda_build("Dot");
#endif
    }
    for (int64_t i = 0; i < n; ++i) {
      double acc = 0.0;
      for (int64_t j = 0; j < d; ++j)
        acc += static_cast<double>(in[0]->data()[i * d + j]) * in[1]->data()[i * d + j];
      out.data()[i] = static_cast<float>(acc);
    }
  }
  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState&, const StepContext&) override {
    const int64_t n = in[0]->dim(0), d = in[0]->dim(1);
    for (int j = 0; j < 2; ++j) {
      if (!din[j]) continue;
      din[j]->resize(in[j]->shape(), in[j]->device());
      const float* other = in[1 - j]->data();
      if (dout.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
        cuda::scale_rows(dout.data(), other, din[j]->data(), n, d);
        continue;
#else
        no_cuda_build("Dot");
#endif
      }
      for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < d; ++k) din[j]->data()[i * d + k] = dout.data()[i] * other[i * d + k];
    }
  }

  bool supports(Device) const override { return true; }

 private:
  bool normalize_;
};
KS_REGISTER_LAYER("dot", DotLayer);

}  // namespace kerasette

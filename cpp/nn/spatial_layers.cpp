// Layers that move NHWC pixels without arithmetic (1-D variants are the H = 1 case):
// ZeroPadding2D and Cropping2D are one layer with signed border amounts (a crop is a negative pad),
// UpSampling2D repeats pixels (nearest) and sums the repeated gradients back. On the GPU the same
// moves run in kernels/cuda/layout.cu.
#include <algorithm>
#include <cstring>

#include "core/parallel.h"
#include "nn/layer_registry.h"
#include "nn/shape_text.h"
#include "ops/device_ops.h"
#ifdef KERASETTE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace kerasette {

class PadCropLayer : public Layer {
 public:
  // borders = {top, bottom, left, right}, each > 0 to pad with zeros, < 0 to crop.
  PadCropLayer(const std::string& name, const Attrs& a)
      : Layer(name), rank_(a.get_int("rank", 2)), borders_(a.get_ints("borders")) {
    KS_CHECK(borders_.size() == 4, "Layer '", name, "': borders need 4 entries");
  }

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1 || static_cast<int64_t>(in[0].size()) != rank_ + 1)
      shape_error(str_cat("expected an input of rank ", rank_ + 2, " (batch included), got shape ",
                          in.empty() ? std::string("none") : batch_shape_str(in[0])));
    Shape out = in[0];
    const int r = static_cast<int>(rank_);
    if (r == 2) out[0] += borders_[0] + borders_[1];
    out[r - 1] += borders_[2] + borders_[3];
    for (int i = 0; i < r; ++i)
      if (out[i] <= 0)
        shape_error(str_cat("`cropping` must be smaller than the input size. Received: "
                            "input_shape=", batch_shape_str(in[0]), ", cropping=(",
                            tuple_str({-borders_[0], -borders_[1]}), ", ",
                            tuple_str({-borders_[2], -borders_[3]}), ")"));
    return out;
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState&,
               const StepContext&) override {
    const Tensor& x = *in[0];
    Shape os{x.dim(0)};
    Shape per = build({Shape(x.shape().begin() + 1, x.shape().end())});
    os.insert(os.end(), per.begin(), per.end());
    out.resize(os, x.device());
    move(x.data(), out.data(), x.shape(), true, x.device());
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState&, const StepContext&) override {
    if (!din[0]) return;
    din[0]->resize(in[0]->shape(), in[0]->device());
    move(dout.data(), din[0]->data(), in[0]->shape(), false, dout.device());
  }
  bool supports(Device) const override { return true; }

 private:
  // forward: out[y, x] = in[y - top, x - left] (0 outside); backward: the adjoint, which is the
  // same copy with the roles of the two buffers swapped (cells never copied get 0).
  void move(const float* src, float* dst, const Shape& in_shape, bool forward,
            Device device) const {
    const int64_t N = in_shape[0], C = in_shape.back();
    const int64_t H = rank_ == 2 ? in_shape[1] : 1, W = in_shape[rank_];
    const int64_t top = rank_ == 2 ? borders_[0] : 0, left = borders_[2];
    const int64_t OH = H + (rank_ == 2 ? borders_[0] + borders_[1] : 0);
    const int64_t OW = W + borders_[2] + borders_[3];
    // Rows of the buffer being written: the padded output (forward) or the input (backward).
    const int64_t DH = forward ? OH : H, DW = forward ? OW : W, SH = forward ? H : OH,
                  SW = forward ? W : OW;
    const int64_t dy_off = forward ? top : -top, dx_off = forward ? left : -left;
    if (device == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      return cuda::shift_window(src, SH, SW, dst, N, DH, DW, C, dy_off, dx_off);
#else
      no_cuda_build("ZeroPadding/Cropping");
#endif
    }
    parallel_for(N * DH, chunk_for(N * DH, 64), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t n = r / DH, y = r % DH, sy = y - dy_off;
        float* d = dst + r * DW * C;
        if (sy < 0 || sy >= SH) {
          std::memset(d, 0, sizeof(float) * DW * C);
          continue;
        }
        const int64_t x0 = std::clamp<int64_t>(dx_off, 0, DW);
        const int64_t x1 = std::clamp<int64_t>(SW + dx_off, x0, DW);
        std::memset(d, 0, sizeof(float) * x0 * C);
        std::memcpy(d + x0 * C, src + ((n * SH + sy) * SW + x0 - dx_off) * C,
                    sizeof(float) * (x1 - x0) * C);
        std::memset(d + x1 * C, 0, sizeof(float) * (DW - x1) * C);
      }
    });
  }

  int64_t rank_;
  std::vector<int64_t> borders_;
};
KS_REGISTER_LAYER("pad_crop", PadCropLayer);

// Nearest-neighbour upsampling: out[y, x] = in[y / sh, x / sw].
class UpSamplingLayer : public Layer {
 public:
  UpSamplingLayer(const std::string& name, const Attrs& a)
      : Layer(name), rank_(a.get_int("rank", 2)), size_(a.get_ints("size")) {
    KS_CHECK(static_cast<int64_t>(size_.size()) == rank_, "Layer '", name, "': size needs ",
             rank_, " entries");
  }

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1 || static_cast<int64_t>(in[0].size()) != rank_ + 1)
      shape_error(str_cat("expected an input of rank ", rank_ + 2, " (batch included), got shape ",
                          in.empty() ? std::string("none") : batch_shape_str(in[0])));
    Shape out = in[0];
    for (int64_t i = 0; i < rank_; ++i) out[i] *= size_[i];
    return out;
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState&,
               const StepContext&) override {
    const Tensor& x = *in[0];
    Shape os = x.shape();
    for (int64_t i = 0; i < rank_; ++i) os[i + 1] *= size_[i];
    out.resize(os, x.device());
    const int64_t N = x.dim(0), C = x.dim(-1), H = rank_ == 2 ? x.dim(1) : 1, W = x.dim(rank_);
    const int64_t sh = rank_ == 2 ? size_[0] : 1, sw = size_[rank_ - 1];
    const int64_t OH = H * sh, OW = W * sw;
    if (x.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      return cuda::upsample_nearest(x.data(), out.data(), N, H, W, C, sh, sw);
#else
      no_cuda_build("UpSampling");
#endif
    }
    const float* xp = x.data();
    float* yp = out.data();
    parallel_for(N * OH, chunk_for(N * OH, 64), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t n = r / OH, y = r % OH;
        const float* s = xp + (n * H + y / sh) * W * C;
        float* d = yp + r * OW * C;
        for (int64_t ox = 0; ox < OW; ++ox)
          std::memcpy(d + ox * C, s + (ox / sw) * C, sizeof(float) * C);
      }
    });
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState&, const StepContext&) override {
    if (!din[0]) return;
    const Tensor& x = *in[0];
    din[0]->resize(x.shape(), x.device());
    const int64_t N = x.dim(0), C = x.dim(-1), H = rank_ == 2 ? x.dim(1) : 1, W = x.dim(rank_);
    const int64_t sh = rank_ == 2 ? size_[0] : 1, sw = size_[rank_ - 1];
    const int64_t OW = W * sw;
    if (x.device() == Device::CUDA) {
#ifdef KERASETTE_WITH_CUDA
      return cuda::upsample_nearest_backward(dout.data(), din[0]->data(), N, H, W, C, sh, sw);
#else
      no_cuda_build("UpSampling");
#endif
    }
    const float* dy = dout.data();
    float* dx = din[0]->data();
    // Each input pixel sums its sh x sw block in a fixed order.
    parallel_for(N * H, chunk_for(N * H, 64), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t n = r / H, y = r % H;
        float* __restrict d = dx + r * W * C;
        std::memset(d, 0, sizeof(float) * W * C);
        for (int64_t a = 0; a < sh; ++a) {
          const float* srow = dy + ((n * H + y) * sh + a) * OW * C;
          for (int64_t ix = 0; ix < W; ++ix)
            for (int64_t b = 0; b < sw; ++b) {
              const float* __restrict s = srow + (ix * sw + b) * C;
              for (int64_t c = 0; c < C; ++c) d[ix * C + c] += s[c];
            }
        }
      }
    });
  }

 bool supports(Device) const override { return true; }

 private:
  int64_t rank_;
  std::vector<int64_t> size_;
};
KS_REGISTER_LAYER("up_sampling", UpSamplingLayer);

}  // namespace kerasette

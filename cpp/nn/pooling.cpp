// Pooling layers, NHWC (1-D variants are the H = 1 case): MaxPooling, AveragePooling (windows with
// Keras's "valid"/"same" geometry from ops/conv2d.h) and the global poolings.
//
// Keras semantics kept here: padded cells never win a max; "same" average pooling leaves padded
// cells out of the divisor. Max pooling stores the winning input offset per output (int32, within
// its image) in NodeState.saved[0]; backward scatter-adds through it, parallel over images, so
// overlapping windows never race and the summation order is fixed.
#include <cmath>
#include <algorithm>
#include <cstring>

#include "core/parallel.h"
#include "nn/layer_registry.h"
#include "nn/shape_text.h"
#include "ops/conv2d.h"
#include "ops/dispatch.h"
#include "ops/conv2d_cuda.h"
#ifdef KERASETTE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace kerasette {

class PoolLayer : public Layer {
 public:
  PoolLayer(const std::string& name, const Attrs& a, bool is_max)
      : Layer(name),
        is_max_(is_max),
        rank_(a.get_int("rank", 2)),
        pool_(a.get_ints("pool_size")),
        strides_(a.get_ints("strides", pool_)),
        padding_(parse_padding(a.get_str("padding", "valid"))) {
    KS_CHECK((rank_ == 1 || rank_ == 2) && static_cast<int64_t>(pool_.size()) == rank_ &&
                 static_cast<int64_t>(strides_.size()) == rank_,
             "Layer '", name, "': pool_size and strides need ", rank_, " entries");
  }

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1 || static_cast<int64_t>(in[0].size()) != rank_ + 1)
      shape_error(str_cat("expected an input of rank ", rank_ + 2, " (batch included), got shape ",
                          in.empty() ? std::string("none") : batch_shape_str(in[0])));
    const Conv2dGeometry g = geometry_for(in[0]);
    return rank_ == 2 ? Shape{g.h.out, g.w.out, g.cin} : Shape{g.w.out, g.cin};
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState& st,
               const StepContext& ctx) override {
    const Tensor& x = *in[0];
    Conv2dGeometry g = geometry_for(Shape(x.shape().begin() + 1, x.shape().end()));
    g.batch = x.dim(0);
    Shape os{g.batch};
    if (rank_ == 2) os.push_back(g.h.out);
    os.push_back(g.w.out);
    os.push_back(g.cin);
#ifdef KERASETTE_WITH_CUDA
    if (x.device() == Device::CUDA) {  // one thread per output (kernels/cuda/conv.cu)
      out.resize(os, Device::CUDA);
      int32_t* darg = nullptr;
      if (is_max_ && ctx.training) {
        if (st.saved.empty()) st.saved.resize(1);
        st.saved[0].resize(os, Device::CUDA);
        darg = reinterpret_cast<int32_t*>(st.saved[0].data());
      }
      cuda::pool_forward(device_geometry(g), g.batch, is_max_, x.data(), out.data(), darg);
      return;
    }
#endif
    out.resize(os);
    int32_t* arg = nullptr;
    if (is_max_ && ctx.training) {  // the winners are needed only for a backward pass
      if (st.saved.empty()) st.saved.resize(1);
      st.saved[0].resize(os);
      arg = reinterpret_cast<int32_t*>(st.saved[0].data());
    }
    const int64_t H = g.h.in, W = g.w.in, C = g.cin, OH = g.h.out, OW = g.w.out;
    const float* xp = x.data();
    float* yp = out.data();
    const CpuKernels& k = cpu_kernels();
    const int64_t rows = g.batch * OH;
    parallel_for(rows, chunk_for(rows, 16), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t n = r / OH, oy = r % OH;
        const int64_t y0 = std::max<int64_t>(0, oy * g.h.stride - g.h.pad_before);
        const int64_t y1 = std::min<int64_t>(H, oy * g.h.stride - g.h.pad_before + g.h.k);
        k.pool_row(is_max_, xp + n * H * W * C, W, C, y0, y1, OW, g.w.stride, g.w.k,
                   g.w.pad_before, yp + r * OW * C, arg ? arg + r * OW * C : nullptr);
      }
    });
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState& st, const StepContext&) override {
    if (!din[0]) return;
    const Tensor& x = *in[0];
    Conv2dGeometry g = geometry_for(Shape(x.shape().begin() + 1, x.shape().end()));
    g.batch = x.dim(0);
#ifdef KERASETTE_WITH_CUDA
    if (x.device() == Device::CUDA) {  // a gather per input element: no atomics
      din[0]->resize(x.shape(), Device::CUDA);
      const int32_t* darg =
          is_max_ ? reinterpret_cast<const int32_t*>(st.saved.at(0).data()) : nullptr;
      cuda::pool_backward(device_geometry(g), g.batch, is_max_, dout.data(), darg,
                          din[0]->data());
      return;
    }
#endif
    din[0]->resize(x.shape());
    const int64_t H = g.h.in, W = g.w.in, C = g.cin, OH = g.h.out, OW = g.w.out;
    const float* dy = dout.data();
    float* dx = din[0]->data();
    const int32_t* arg = is_max_ ? reinterpret_cast<const int32_t*>(st.saved[0].data()) : nullptr;
    parallel_for(g.batch, 1, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n) {
        float* __restrict dxn = dx + n * H * W * C;
        std::memset(dxn, 0, sizeof(float) * H * W * C);
        const float* dyn = dy + n * OH * OW * C;
        if (is_max_) {
          const int32_t* an = arg + n * OH * OW * C;
          for (int64_t i = 0; i < OH * OW * C; ++i) dxn[an[i]] += dyn[i];
          continue;
        }
        for (int64_t oy = 0; oy < OH; ++oy) {
          const int64_t y0 = std::max<int64_t>(0, oy * g.h.stride - g.h.pad_before);
          const int64_t y1 = std::min<int64_t>(H, oy * g.h.stride - g.h.pad_before + g.h.k);
          for (int64_t ox = 0; ox < OW; ++ox) {
            const int64_t x0 = std::max<int64_t>(0, ox * g.w.stride - g.w.pad_before);
            const int64_t x1 = std::min<int64_t>(W, ox * g.w.stride - g.w.pad_before + g.w.k);
            const float inv = 1.0f / static_cast<float>((y1 - y0) * (x1 - x0));
            const float* __restrict d = dyn + (oy * OW + ox) * C;
            for (int64_t iy = y0; iy < y1; ++iy)
              for (int64_t ix = x0; ix < x1; ++ix) {
                float* __restrict t = dxn + (iy * W + ix) * C;
                for (int64_t c = 0; c < C; ++c) t[c] += d[c] * inv;
              }
          }
        }
      }
    });
  }

  bool supports(Device) const override { return true; }

 private:
  Conv2dGeometry geometry_for(const Shape& s) const {
    Conv2dGeometry g;
    g.cin = g.cout = s.back();
    const int r = static_cast<int>(rank_);
    g.h = r == 2 ? window_axis(s[0], pool_[0], strides_[0], 1, padding_)
                 : window_axis(1, 1, 1, 1, Padding::Valid);
    g.w = window_axis(s[r - 1], pool_[r - 1], strides_[r - 1], 1, padding_);
    if (g.h.out <= 0 || g.w.out <= 0)
      shape_error(str_cat("computed output size would be negative: input of shape ",
                          batch_shape_str(s), " is too small for pool_size=", tuple_str(pool_),
                          " with padding='", padding_ == Padding::Same ? "same" : "valid", "'"));
    // Offsets are stored as int32 per image.
    if (s[0] * (r == 2 ? s[1] : 1) * s.back() >= (int64_t{1} << 31))
      shape_error("input too large for pooling (more than 2**31 values per sample)");
    return g;
  }

  bool is_max_;
  int64_t rank_;
  std::vector<int64_t> pool_, strides_;
  Padding padding_;
};

struct MaxPoolLayer : PoolLayer {
  MaxPoolLayer(const std::string& name, const Attrs& a) : PoolLayer(name, a, true) {}
};
struct AvgPoolLayer : PoolLayer {
  AvgPoolLayer(const std::string& name, const Attrs& a) : PoolLayer(name, a, false) {}
};
KS_REGISTER_LAYER("max_pooling", MaxPoolLayer);
KS_REGISTER_LAYER("average_pooling", AvgPoolLayer);

// Global pooling over every axis but the batch and the last: (N, ..., C) -> (N, C), or with
// `keepdims` (N, 1, ..., 1, C).
class GlobalPoolLayer : public Layer {
 public:
  GlobalPoolLayer(const std::string& name, const Attrs& a, bool is_max)
      : Layer(name), is_max_(is_max), keepdims_(a.get_bool("keepdims", false)) {}

  Shape build(const std::vector<Shape>& in) override {
    if (in.size() != 1 || in[0].size() < 2)
      shape_error(str_cat("expected an input of rank >= 3 (batch included), got shape ",
                          in.empty() ? std::string("none") : batch_shape_str(in[0])));
    if (!keepdims_) return {in[0].back()};
    Shape out(in[0].size(), 1);
    out.back() = in[0].back();
    return out;
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, NodeState& st,
               const StepContext&) override {
    const Tensor& x = *in[0];
    const int64_t N = x.dim(0), C = x.dim(-1), P = N ? x.numel() / (N * C) : 0;
    Shape os{N};
    Shape per = build({Shape(x.shape().begin() + 1, x.shape().end())});
    os.insert(os.end(), per.begin(), per.end());
#ifdef KERASETTE_WITH_CUDA
    if (x.device() == Device::CUDA) {
      out.resize(os, Device::CUDA);
      int32_t* darg = nullptr;
      if (is_max_) {
        if (st.saved.empty()) st.saved.resize(1);
        st.saved[0].resize({N, C}, Device::CUDA);
        darg = reinterpret_cast<int32_t*>(st.saved[0].data());
      }
      cuda::global_pool_forward(N, P, C, is_max_, x.data(), out.data(), darg);
      return;
    }
#endif
    out.resize(os);
    int32_t* arg = nullptr;
    if (is_max_) {
      if (st.saved.empty()) st.saved.resize(1);
      st.saved[0].resize({N, C});
      arg = reinterpret_cast<int32_t*>(st.saved[0].data());
    }
    const float* xp = x.data();
    float* yp = out.data();
    parallel_for(N, 1, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n) {
        const float* xn = xp + n * P * C;
        float* __restrict y = yp + n * C;
        if (is_max_) {
          int32_t* __restrict ai = arg + n * C;
          std::memcpy(y, xn, sizeof(float) * C);
          for (int64_t c = 0; c < C; ++c) ai[c] = static_cast<int32_t>(c);
          for (int64_t p = 1; p < P; ++p) {
            const float* __restrict v = xn + p * C;
            for (int64_t c = 0; c < C; ++c)
              if (v[c] > y[c]) {
                y[c] = v[c];
                ai[c] = static_cast<int32_t>(p * C + c);
              }
          }
        } else {
          std::memset(y, 0, sizeof(float) * C);
          for (int64_t p = 0; p < P; ++p) {
            const float* __restrict v = xn + p * C;
            for (int64_t c = 0; c < C; ++c) y[c] += v[c];
          }
          const float inv = 1.0f / static_cast<float>(P);
          for (int64_t c = 0; c < C; ++c) y[c] *= inv;
        }
      }
    });
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, NodeState& st, const StepContext&) override {
    if (!din[0]) return;
    const Tensor& x = *in[0];
    const int64_t N = x.dim(0), C = x.dim(-1), P = N ? x.numel() / (N * C) : 0;
#ifdef KERASETTE_WITH_CUDA
    if (x.device() == Device::CUDA) {
      din[0]->resize(x.shape(), Device::CUDA);
      const int32_t* darg =
          is_max_ ? reinterpret_cast<const int32_t*>(st.saved.at(0).data()) : nullptr;
      cuda::global_pool_backward(N, P, C, is_max_, dout.data(), darg, din[0]->data());
      return;
    }
#endif
    din[0]->resize(x.shape());
    const float* dy = dout.data();
    float* dx = din[0]->data();
    const int32_t* arg = is_max_ ? reinterpret_cast<const int32_t*>(st.saved[0].data()) : nullptr;
    const float inv = 1.0f / static_cast<float>(P);
    parallel_for(N, 1, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n) {
        float* __restrict dxn = dx + n * P * C;
        const float* __restrict d = dy + n * C;
        if (is_max_) {
          std::memset(dxn, 0, sizeof(float) * P * C);
          for (int64_t c = 0; c < C; ++c) dxn[arg[n * C + c]] += d[c];
        } else {
          for (int64_t p = 0; p < P; ++p)
            for (int64_t c = 0; c < C; ++c) dxn[p * C + c] = d[c] * inv;
        }
      }
    });
  }

  bool supports(Device) const override { return true; }

 private:
  bool is_max_, keepdims_;
};

struct GlobalMaxPoolLayer : GlobalPoolLayer {
  GlobalMaxPoolLayer(const std::string& name, const Attrs& a) : GlobalPoolLayer(name, a, true) {}
};
struct GlobalAvgPoolLayer : GlobalPoolLayer {
  GlobalAvgPoolLayer(const std::string& name, const Attrs& a) : GlobalPoolLayer(name, a, false) {}
};
KS_REGISTER_LAYER("global_max_pooling", GlobalMaxPoolLayer);
KS_REGISTER_LAYER("global_average_pooling", GlobalAvgPoolLayer);

}  // namespace kerasette

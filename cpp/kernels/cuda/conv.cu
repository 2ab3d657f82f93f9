// Convolution and pooling kernels for the CUDA backend (NHWC; one group of a grouped convolution
// is addressed through the pixel stride), the device halves of ops/conv2d.cpp and
// nn/pooling.cpp. The convolution itself is im2col (here) + the tiled GEMM of
// gemm.cu with its bias/activation epilogue (ops/conv2d_cuda.cpp drives them); its adjoint col2im
// is a gather (one thread per input element, summing the col entries that copied it in a fixed
// (a, b) order), so no atomics and the same bits on every run. Pooling: one thread per output for
// the forward passes; the backward passes are gathers too, one thread per input element walking
// the windows that cover it in output order (oy, then ox), the order of the CPU's scatter.
#include "kernels/cuda/device_common.cuh"

namespace kerasette::cuda {
namespace {

struct Geo {
  int H, W, C, OH, OW, KH, KW, sh, sw, dh, dw, ph, pw;
  int64_t xs;  // floats from one pixel of x to the next (C, or all channels for one group)
};

Geo make_geo(const ConvGeometry& g) {
  return Geo{static_cast<int>(g.H),  static_cast<int>(g.W),  static_cast<int>(g.C),
             static_cast<int>(g.OH), static_cast<int>(g.OW), static_cast<int>(g.KH),
             static_cast<int>(g.KW), static_cast<int>(g.sh), static_cast<int>(g.sw),
             static_cast<int>(g.dh), static_cast<int>(g.dw), static_cast<int>(g.ph),
             static_cast<int>(g.pw), g.x_stride ? g.x_stride : g.C};
}

// col[(n*OH + oy)*OW + ox, (a*KW + b)*C + c] = xpad[n, oy*sh + a*dh - ph, ox*sw + b*dw - pw, c]
__global__ void im2col_kernel(Geo g, int64_t batch, const float* __restrict__ x,
                              float* __restrict__ col) {
  const int64_t CW = static_cast<int64_t>(g.KH) * g.KW * g.C;
  const int64_t total = batch * g.OH * g.OW * CW;
  KS_GRID_STRIDE(i, total) {
    const int64_t row = i / CW;
    const int j = static_cast<int>(i - row * CW);
    const int c = j % g.C, ab = j / g.C, b = ab % g.KW, a = ab / g.KW;
    const int ox = static_cast<int>(row % g.OW);
    const int64_t t = row / g.OW;
    const int oy = static_cast<int>(t % g.OH);
    const int64_t n = t / g.OH;
    const int iy = oy * g.sh - g.ph + a * g.dh, ix = ox * g.sw - g.pw + b * g.dw;
    float v = 0.0f;
    if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W)
      v = x[((n * g.H + iy) * g.W + ix) * g.xs + c];
    col[i] = v;
  }
}

// The adjoint of im2col: dx[n, iy, ix, c] = sum over the (oy, a), (ox, b) with
// iy = oy*sh - ph + a*dh and ix = ox*sw - pw + b*dw of col[(n, oy, ox), (a, b, c)].
__global__ void col2im_kernel(Geo g, int64_t batch, const float* __restrict__ col,
                              float* __restrict__ dx) {
  const int64_t CW = static_cast<int64_t>(g.KH) * g.KW * g.C;
  const int64_t total = batch * g.H * g.W * g.C;
  KS_GRID_STRIDE(i, total) {
    const Nhwc p = split_nhwc(i, g.H, g.W, g.C);
    const int c = p.c, ix = p.x, iy = p.y;
    const int64_t n = p.n;
    float s = 0.0f;
    for (int a = 0; a < g.KH; ++a) {
      const int ty = iy + g.ph - a * g.dh;
      if (ty < 0 || ty % g.sh != 0) continue;
      const int oy = ty / g.sh;
      if (oy >= g.OH) continue;
      for (int b = 0; b < g.KW; ++b) {
        const int tx = ix + g.pw - b * g.dw;
        if (tx < 0 || tx % g.sw != 0) continue;
        const int ox = tx / g.sw;
        if (ox >= g.OW) continue;
        s += col[((n * g.OH + oy) * g.OW + ox) * CW + (a * g.KW + b) * g.C + c];
      }
    }
    dx[((n * g.H + iy) * g.W + ix) * g.xs + c] = s;
  }
}

// In-bounds window [lo, hi) along one axis for output o.
__device__ __forceinline__ void window(int o, int stride, int pad, int k, int n, int& lo, int& hi) {
  const int s = o * stride - pad;
  lo = s < 0 ? 0 : s;
  hi = s + k < n ? s + k : n;
}

// Outputs whose window covers input i along one axis: [lo, hi] (empty when lo > hi).
__device__ __forceinline__ void covering(int i, int stride, int pad, int k, int out, int& lo,
                                         int& hi) {
  const int t = i + pad - k + 1;  // o*stride >= t
  lo = t <= 0 ? 0 : (t + stride - 1) / stride;
  hi = (i + pad) / stride;  // i + pad >= 0 always
  if (hi > out - 1) hi = out - 1;
}

__global__ void pool_forward_kernel(Geo g, int64_t batch, bool is_max, const float* __restrict__ x,
                                    float* __restrict__ y, int32_t* __restrict__ arg) {
  const int64_t total = batch * g.OH * g.OW * g.C;
  KS_GRID_STRIDE(i, total) {
    const Nhwc p = split_nhwc(i, g.OH, g.OW, g.C);
    const int c = p.c, ox = p.x, oy = p.y;
    const int64_t n = p.n;
    int y0, y1, x0, x1;
    window(oy, g.sh, g.ph, g.KH, g.H, y0, y1);
    window(ox, g.sw, g.pw, g.KW, g.W, x0, x1);
    const float* xn = x + n * g.H * g.W * g.C;
    if (is_max) {
      int best = (y0 * g.W + x0) * g.C + c;
      float m = xn[best];
      for (int iy = y0; iy < y1; ++iy)
        for (int ix = x0; ix < x1; ++ix) {
          const int off = (iy * g.W + ix) * g.C + c;
          const float v = xn[off];
          if (v > m) {
            m = v;
            best = off;
          }
        }
      y[i] = m;
      if (arg) arg[i] = best;
    } else {
      float s = 0.0f;
      for (int iy = y0; iy < y1; ++iy)
        for (int ix = x0; ix < x1; ++ix) s += xn[(iy * g.W + ix) * g.C + c];
      y[i] = s * (1.0f / static_cast<float>((y1 - y0) * (x1 - x0)));
    }
  }
}

__global__ void pool_backward_kernel(Geo g, int64_t batch, bool is_max,
                                     const float* __restrict__ dy, const int32_t* __restrict__ arg,
                                     float* __restrict__ dx) {
  const int64_t total = batch * g.H * g.W * g.C;
  KS_GRID_STRIDE(i, total) {
    const Nhwc p = split_nhwc(i, g.H, g.W, g.C);
    const int c = p.c, ix = p.x, iy = p.y;
    const int64_t n = p.n;
    const int off = (iy * g.W + ix) * g.C + c;
    int oy0, oy1, ox0, ox1;
    covering(iy, g.sh, g.ph, g.KH, g.OH, oy0, oy1);
    covering(ix, g.sw, g.pw, g.KW, g.OW, ox0, ox1);
    const int64_t base = n * g.OH * g.OW * g.C;
    float s = 0.0f;
    for (int oy = oy0; oy <= oy1; ++oy)
      for (int ox = ox0; ox <= ox1; ++ox) {
        const int64_t o = base + (static_cast<int64_t>(oy) * g.OW + ox) * g.C + c;
        if (is_max) {
          if (arg[o] == off) s += dy[o];
        } else {
          int y0, y1, x0, x1;
          window(oy, g.sh, g.ph, g.KH, g.H, y0, y1);
          window(ox, g.sw, g.pw, g.KW, g.W, x0, x1);
          s += dy[o] * (1.0f / static_cast<float>((y1 - y0) * (x1 - x0)));
        }
      }
    dx[i] = s;
  }
}

__global__ void global_pool_forward_kernel(int64_t N, int64_t P, int64_t C, bool is_max,
                                           const float* __restrict__ x, float* __restrict__ y,
                                           int32_t* __restrict__ arg) {
  KS_GRID_STRIDE(i, N * C) {
    const int64_t n = i / C, c = i % C;
    const float* xn = x + n * P * C + c;
    if (is_max) {
      float m = xn[0];
      int64_t best = 0;
      for (int64_t p = 1; p < P; ++p)
        if (xn[p * C] > m) {
          m = xn[p * C];
          best = p;
        }
      y[i] = m;
      arg[i] = static_cast<int32_t>(best * C + c);
    } else {
      float s = 0.0f;
      for (int64_t p = 0; p < P; ++p) s += xn[p * C];
      y[i] = s * (1.0f / static_cast<float>(P));
    }
  }
}

__global__ void global_pool_backward_kernel(int64_t N, int64_t P, int64_t C, bool is_max,
                                            const float* __restrict__ dy,
                                            const int32_t* __restrict__ arg,
                                            float* __restrict__ dx) {
  const float inv = 1.0f / static_cast<float>(P);
  KS_GRID_STRIDE(i, N * P * C) {
    const int64_t c = i % C, n = i / (P * C), pc = i % (P * C);
    const float d = dy[n * C + c];
    dx[i] = is_max ? (arg[n * C + c] == pc ? d : 0.0f) : d * inv;
  }
}

}  // namespace

void im2col(const ConvGeometry& g, int64_t batch, const float* x, float* col) {
  const int64_t total = batch * g.OH * g.OW * g.KH * g.KW * g.C;
  if (total <= 0) return;
  im2col_kernel<<<grid_for(total), kThreads>>>(make_geo(g), batch, x, col);
  check_launch("im2col");
}

void col2im(const ConvGeometry& g, int64_t batch, const float* col, float* dx) {
  const int64_t total = batch * g.H * g.W * g.C;
  if (total <= 0) return;
  col2im_kernel<<<grid_for(total), kThreads>>>(make_geo(g), batch, col, dx);
  check_launch("col2im");
}

void pool_forward(const ConvGeometry& g, int64_t batch, bool is_max, const float* x, float* y,
                  int32_t* arg) {
  const int64_t total = batch * g.OH * g.OW * g.C;
  if (total <= 0) return;
  pool_forward_kernel<<<grid_for(total), kThreads>>>(make_geo(g), batch, is_max, x, y, arg);
  check_launch("pool_forward");
}

void pool_backward(const ConvGeometry& g, int64_t batch, bool is_max, const float* dy,
                   const int32_t* arg, float* dx) {
  const int64_t total = batch * g.H * g.W * g.C;
  if (total <= 0) return;
  pool_backward_kernel<<<grid_for(total), kThreads>>>(make_geo(g), batch, is_max, dy, arg, dx);
  check_launch("pool_backward");
}

void global_pool_forward(int64_t N, int64_t P, int64_t C, bool is_max, const float* x, float* y,
                         int32_t* arg) {
  if (N * C <= 0 || P <= 0) return;
  global_pool_forward_kernel<<<grid_for(N * C), kThreads>>>(N, P, C, is_max, x, y, arg);
  check_launch("global_pool_forward");
}

void global_pool_backward(int64_t N, int64_t P, int64_t C, bool is_max, const float* dy,
                          const int32_t* arg, float* dx) {
  if (N * P * C <= 0) return;
  global_pool_backward_kernel<<<grid_for(N * P * C), kThreads>>>(N, P, C, is_max, dy, arg, dx);
  check_launch("global_pool_backward");
}

}  // namespace kerasette::cuda

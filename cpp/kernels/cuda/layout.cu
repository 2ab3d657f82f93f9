// Layers that move values without arithmetic, or with a per-sample dot product: ZeroPadding /
// Cropping (one shifted-window copy), UpSampling (nearest) and its gradient, Permute, Dot. Every
// kernel is a gather, one thread per written element, so nothing races; sums run in the CPU's
// order (nn/spatial_layers.cpp, nn/permute.cpp, nn/merge_layers.cpp).
#include "kernels/cuda/device_common.cuh"

namespace kerasette::cuda {
namespace {

__global__ void shift_window_kernel(const float* __restrict__ src, int64_t SH, int64_t SW,
                                    float* __restrict__ dst, int64_t batch, int64_t DH, int64_t DW,
                                    int64_t C, int64_t top, int64_t left) {
  KS_GRID_STRIDE(i, batch * DH * DW * C) {
    const Nhwc p = split_nhwc(i, static_cast<int>(DH), static_cast<int>(DW), static_cast<int>(C));
    const int64_t sy = p.y - top, sx = p.x - left;
    dst[i] = (sy >= 0 && sy < SH && sx >= 0 && sx < SW)
                 ? src[((p.n * SH + sy) * SW + sx) * C + p.c]
                 : 0.0f;
  }
}

__global__ void upsample_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t batch,
                                int64_t H, int64_t W, int64_t C, int64_t sh, int64_t sw) {
  const int64_t OH = H * sh, OW = W * sw;
  KS_GRID_STRIDE(i, batch * OH * OW * C) {
    const Nhwc p = split_nhwc(i, static_cast<int>(OH), static_cast<int>(OW), static_cast<int>(C));
    y[i] = x[((p.n * H + p.y / sh) * W + p.x / sw) * C + p.c];
  }
}

__global__ void upsample_backward_kernel(const float* __restrict__ dy, float* __restrict__ dx,
                                         int64_t batch, int64_t H, int64_t W, int64_t C,
                                         int64_t sh, int64_t sw) {
  const int64_t OW = W * sw;
  KS_GRID_STRIDE(i, batch * H * W * C) {
    const Nhwc p = split_nhwc(i, static_cast<int>(H), static_cast<int>(W), static_cast<int>(C));
    const int64_t row = p.n * H + p.y;
    float s = 0.0f;
    for (int64_t a = 0; a < sh; ++a)
      for (int64_t b = 0; b < sw; ++b) s += dy[((row * sh + a) * OW + p.x * sw + b) * C + p.c];
    dx[i] = s;
  }
}

struct Axes {
  int64_t out[kMaxPermuteRank], stride[kMaxPermuteRank];
};

// Output element i of a sample walks the output axes; its source offset steps by stride[k].
__global__ void permute_kernel(const float* __restrict__ src, float* __restrict__ dst,
                               int64_t batch, int64_t per, int rank, Axes ax, bool inverse) {
  KS_GRID_STRIDE(i, batch * per) {
    const int64_t b = i / per;
    int64_t r = i - b * per, off = 0;
    for (int k = rank - 1; k >= 0; --k) {
      off += (r % ax.out[k]) * ax.stride[k];
      r /= ax.out[k];
    }
    if (inverse)
      dst[b * per + off] = src[i];
    else
      dst[i] = src[b * per + off];
  }
}

__global__ void dot_rows_kernel(const float* __restrict__ a, const float* __restrict__ b,
                                float* __restrict__ out, int64_t n, int64_t d) {
  KS_GRID_STRIDE(i, n) {
    double acc = 0.0;
    for (int64_t j = 0; j < d; ++j)
      acc += static_cast<double>(a[i * d + j]) * static_cast<double>(b[i * d + j]);
    out[i] = static_cast<float>(acc);
  }
}

__global__ void scale_rows_kernel(const float* __restrict__ s, const float* __restrict__ x,
                                  float* __restrict__ y, int64_t n, int64_t d) {
  KS_GRID_STRIDE(i, n * d) y[i] = s[i / d] * x[i];
}

}  // namespace

void shift_window(const float* src, int64_t SH, int64_t SW, float* dst, int64_t batch, int64_t DH,
                  int64_t DW, int64_t C, int64_t top, int64_t left) {
  const int64_t n = batch * DH * DW * C;
  if (n <= 0) return;
  shift_window_kernel<<<grid_for(n), kThreads>>>(src, SH, SW, dst, batch, DH, DW, C, top, left);
  check_launch("shift_window");
}

void upsample_nearest(const float* x, float* y, int64_t batch, int64_t H, int64_t W, int64_t C,
                      int64_t sh, int64_t sw) {
  const int64_t n = batch * H * sh * W * sw * C;
  if (n <= 0) return;
  upsample_kernel<<<grid_for(n), kThreads>>>(x, y, batch, H, W, C, sh, sw);
  check_launch("upsample_nearest");
}

void upsample_nearest_backward(const float* dy, float* dx, int64_t batch, int64_t H, int64_t W,
                               int64_t C, int64_t sh, int64_t sw) {
  const int64_t n = batch * H * W * C;
  if (n <= 0) return;
  upsample_backward_kernel<<<grid_for(n), kThreads>>>(dy, dx, batch, H, W, C, sh, sw);
  check_launch("upsample_nearest_backward");
}

void permute(const float* src, float* dst, int64_t batch, const int64_t* in_shape,
             const int64_t* dims, int rank, bool inverse) {
  int64_t per = 1;
  for (int k = 0; k < rank; ++k) per *= in_shape[k];
  if (batch * per <= 0) return;
  int64_t in_stride[kMaxPermuteRank];
  if (rank > 0) in_stride[rank - 1] = 1;  // rank 0: a per-sample scalar, copied as is
  for (int k = rank - 1; k > 0; --k) in_stride[k - 1] = in_stride[k] * in_shape[k];
  Axes ax{};
  for (int k = 0; k < rank; ++k) {
    ax.out[k] = in_shape[dims[k]];
    ax.stride[k] = in_stride[dims[k]];
  }
  permute_kernel<<<grid_for(batch * per), kThreads>>>(src, dst, batch, per, rank, ax, inverse);
  check_launch("permute");
}

void dot_rows(const float* a, const float* b, float* out, int64_t n, int64_t d) {
  if (n <= 0) return;
  dot_rows_kernel<<<grid_for(n), kThreads>>>(a, b, out, n, d);
  check_launch("dot_rows");
}

void scale_rows(const float* s, const float* x, float* y, int64_t n, int64_t d) {
  if (n * d <= 0) return;
  scale_rows_kernel<<<grid_for(n * d), kThreads>>>(s, x, y, n, d);
  check_launch("scale_rows");
}

}  // namespace kerasette::cuda

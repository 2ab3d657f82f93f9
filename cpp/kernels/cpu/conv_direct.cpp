// Direct convolution for few input values per output (small cin * kh * kw, e.g. a first layer on
// grayscale or RGB images). im2col would copy each input value kh * kw times into a matrix whose
// GEMM does little work per byte; here each output pixel keeps its cout accumulators in one small
// array and the taps are added in a fixed order, vectorized across output channels.
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/simd.h"

namespace kerasette::cpu::KS_ISA {
namespace {

// cout == NV vectors exactly: the accumulators live in registers for the whole window.
template <int NV>
void direct_row_vec(const float* x, int64_t H, int64_t W, int64_t C, const float* kernel,
                    int64_t KH, int64_t KW, int64_t sh, int64_t sw, int64_t dh, int64_t dw,
                    int64_t pad_top, int64_t pad_left, const float* bias, int64_t oy, int64_t OW,
                    float* y) {
  constexpr int64_t O = NV * kW;
  for (int64_t ox = 0; ox < OW; ++ox) {
    vf acc[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[v] = bias ? load(bias + v * kW) : vf{};
    for (int64_t a = 0; a < KH; ++a) {
      const int64_t iy = oy * sh - pad_top + a * dh;
      if (iy < 0 || iy >= H) continue;
      for (int64_t b = 0; b < KW; ++b) {
        const int64_t ix = ox * sw - pad_left + b * dw;
        if (ix < 0 || ix >= W) continue;
        const float* xp = x + (iy * W + ix) * C;
        const float* wp = kernel + (a * KW + b) * C * O;
        for (int64_t c = 0; c < C; ++c) {
          const vf xv = vf{} + xp[c];
#pragma GCC unroll 8
          for (int v = 0; v < NV; ++v) acc[v] += xv * load(wp + c * O + v * kW);
        }
      }
    }
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) store(y + ox * O + v * kW, acc[v]);
  }
}

// Any cout up to kConvDirectMaxOut: accumulators in a small array.
void direct_row_any(const float* x, int64_t H, int64_t W, int64_t C, const float* kernel,
                       int64_t KH, int64_t KW, int64_t O, int64_t sh, int64_t sw, int64_t dh,
                       int64_t dw, int64_t pad_top, int64_t pad_left, const float* bias,
                       int64_t oy, int64_t OW, float* y) {
  float acc[kConvDirectMaxOut];
  for (int64_t ox = 0; ox < OW; ++ox) {
    for (int64_t o = 0; o < O; ++o) acc[o] = bias ? bias[o] : 0.0f;
    for (int64_t a = 0; a < KH; ++a) {
      const int64_t iy = oy * sh - pad_top + a * dh;
      if (iy < 0 || iy >= H) continue;
      for (int64_t b = 0; b < KW; ++b) {
        const int64_t ix = ox * sw - pad_left + b * dw;
        if (ix < 0 || ix >= W) continue;
        const float* xp = x + (iy * W + ix) * C;
        const float* wp = kernel + (a * KW + b) * C * O;
        for (int64_t c = 0; c < C; ++c) {
          const float xv = xp[c];
          const float* wr = wp + c * O;
          for (int64_t o = 0; o < O; ++o) acc[o] += xv * wr[o];
        }
      }
    }
    float* yp = y + ox * O;
    for (int64_t o = 0; o < O; ++o) yp[o] = acc[o];
  }
}

void conv2d_direct_row(const float* x, int64_t H, int64_t W, int64_t C, const float* kernel,
                       int64_t KH, int64_t KW, int64_t O, int64_t sh, int64_t sw, int64_t dh,
                       int64_t dw, int64_t pad_top, int64_t pad_left, const float* bias,
                       int64_t oy, int64_t OW, float* y) {
  switch (O == kW ? 1 : O == 2 * kW ? 2 : O == 4 * kW ? 4 : O == 8 * kW ? 8 : 0) {
    case 1: return direct_row_vec<1>(x, H, W, C, kernel, KH, KW, sh, sw, dh, dw, pad_top, pad_left,
                                     bias, oy, OW, y);
    case 2: return direct_row_vec<2>(x, H, W, C, kernel, KH, KW, sh, sw, dh, dw, pad_top, pad_left,
                                     bias, oy, OW, y);
    case 4: return direct_row_vec<4>(x, H, W, C, kernel, KH, KW, sh, sw, dh, dw, pad_top, pad_left,
                                     bias, oy, OW, y);
    case 8: return direct_row_vec<8>(x, H, W, C, kernel, KH, KW, sh, sw, dh, dw, pad_top, pad_left,
                                     bias, oy, OW, y);
    default: return direct_row_any(x, H, W, C, kernel, KH, KW, O, sh, sw, dh, dw, pad_top,
                                   pad_left, bias, oy, OW, y);
  }
}

}  // namespace

void fill_conv_direct(CpuKernels& t) { t.conv2d_direct_row = conv2d_direct_row; }

}  // namespace kerasette::cpu::KS_ISA

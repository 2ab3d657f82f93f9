// Max and average pooling, one output row at a time (NHWC): each output pixel's channels are
// processed kW at a time with the running maximum, its position and the running sum in
// registers, the channel tail on masked vectors.
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/simd.h"

namespace kerasette::cpu::KS_ISA {
namespace {

void pool_row(bool is_max, const float* x, int64_t W, int64_t C, int64_t y0, int64_t y1, int64_t OW,
              int64_t sw, int64_t kw, int64_t pad_left, float* y, int32_t* arg) {
  vi lane;
  for (int l = 0; l < kW; ++l) lane[l] = l;
  for (int64_t ox = 0; ox < OW; ++ox) {
    const int64_t left = ox * sw - pad_left;
    const int64_t x0 = left > 0 ? left : 0, x1 = left + kw < W ? left + kw : W;
    float* yo = y + ox * C;
    int32_t* ao = arg ? arg + ox * C : nullptr;
    for (int64_t c = 0; c < C; c += kW) {
      const int64_t r = C - c < kW ? C - c : kW;
      if (is_max) {
        const int64_t first = (y0 * W + x0) * C + c;
        vf best = load_n(x + first, r);
        vi at = lane + static_cast<int32_t>(first);
        for (int64_t iy = y0; iy < y1; ++iy)
          for (int64_t ix = (iy == y0 ? x0 + 1 : x0); ix < x1; ++ix) {
            const int64_t off = (iy * W + ix) * C + c;
            const vf v = load_n(x + off, r);
            const vi win = v > best;
            best = win ? v : best;
            at = win ? lane + static_cast<int32_t>(off) : at;
          }
        store_n(yo + c, best, r);
        if (ao) store_n(reinterpret_cast<float*>(ao + c), (vf)at, r);
      } else {
        vf sum = vf{};
        for (int64_t iy = y0; iy < y1; ++iy)
          for (int64_t ix = x0; ix < x1; ++ix) sum += load_n(x + (iy * W + ix) * C + c, r);
        const float inv = 1.0f / static_cast<float>((y1 - y0) * (x1 - x0));
        store_n(yo + c, sum * inv, r);
      }
    }
  }
}

}  // namespace

void fill_pooling(CpuKernels& t) { t.pool_row = pool_row; }

}  // namespace kerasette::cpu::KS_ISA

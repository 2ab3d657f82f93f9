// 2-D convolution (cross-correlation, NHWC, kernel (kh, kw, cin / groups, cout) as Keras stores it)
// and the window geometry shared with the pooling layers.
//
// Path rule, forward (conv2d_forward): a 1x1 kernel with stride 1 and no padding reads the input
// as the GEMM's A matrix directly (rows = pixels, cols = channels); a window of at most
// kDirectMaxTaps input values per output (cin * kh * kw: first layers on grayscale or RGB images)
// is computed directly, accumulators across output channels; stride-1 3x3 and 5x5 kernels with
// 16+ channels on both sides run as Winograd convolutions (ops/winograd.h); every other shape is
// an implicit GEMM whose A panels are gathered straight from the image (no im2col matrix), or,
// for a handful of output pixels, im2col into a caller-owned workspace in slices of whole images
// (under kIm2colMaxFloats) and a GEMM per group, the bias in the GEMM epilogue.
// Backward: the kernel gradient is Winograd where the forward is, else an implicit GEMM over
// im2col(x)^T gathered from x (groups with at least half a micro-panel of channels), else im2col;
// the input gradient of a stride-1 single-group convolution is the convolution of dy with the
// flipped kernel (Winograd or implicit GEMM), else a GEMM into columns and col2im.
#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"
#include "kernels/cpu/kernels.h"

namespace kerasette {

enum class Padding : int { Valid = 0, Same = 1, Causal = 2 };
Padding parse_padding(const std::string& name);
const char* padding_name(Padding p);  // "valid", "same" or "causal"

// One spatial axis of a sliding window: TensorFlow's rule for "same" (out = ceil(n / s), the extra
// padded row/col goes after), and Keras's "causal" (all padding before). out <= 0 means the input
// is too small for the window.
struct WindowAxis {
  int64_t in = 0, k = 1, stride = 1, dilation = 1;
  int64_t out = 0, pad_before = 0, pad_after = 0;
};
WindowAxis window_axis(int64_t in, int64_t k, int64_t stride, int64_t dilation, Padding padding);

constexpr int64_t kDirectMaxTaps = 32;

struct Conv2dGeometry {
  int64_t batch = 0;           // images in this call
  int64_t cin = 0, cout = 0, groups = 1;
  WindowAxis h, w;
  int64_t k_group() const { return h.k * w.k * (cin / groups); }  // GEMM K per group
  int64_t col_width() const { return k_group() * groups; }        // im2col row length
  int64_t out_pixels() const { return h.out * w.out; }
  // 1x1, stride 1, no padding: the input already is the im2col matrix.
  bool direct_taps() const {
    return groups == 1 && cout <= kConvDirectMaxOut && h.k * w.k * cin <= kDirectMaxTaps;
  }
  bool direct() const {
    return h.k == 1 && w.k == 1 && h.stride == 1 && w.stride == 1 && h.pad_before == 0 &&
           w.pad_before == 0;
  }
};

// The largest im2col workspace a slice may use (floats); a single image may exceed it.
constexpr int64_t kIm2colMaxFloats = int64_t{1} << 23;
// Images per slice for this geometry.
int64_t conv2d_slice_images(const Conv2dGeometry& g);

// col[(n*OH + oy)*OW + ox, grp*Kg + (a*KW + b)*Cg + c] = xpad[n, oy*sh + a*dh, ox*sw + b*dw, grp*Cg + c]
// for images [0, g.batch) of x; padded cells are 0.
void im2col(const Conv2dGeometry& g, const float* x, float* col);
// The adjoint: dx (zeroed here) receives the sum of every col entry that im2col copied from it.
// Parallel over images (disjoint outputs), serial and fixed-order within one.
void col2im(const Conv2dGeometry& g, const float* col, float* dx);

// y[batch, OH, OW, cout] = act(conv(x) + bias) (bias may be null; act applied in the GEMM
// epilogue, never Softmax). `col` is the workspace, resized here and reused between calls; when the
// batch fits in one slice it still holds the im2col matrix afterwards (conv2d_backward_weight can
// then skip recomputing it): the return value says whether it does.
bool conv2d_forward(const Conv2dGeometry& g, const float* x, const float* kernel, const float* bias,
                    Act act, float alpha, float* y, Tensor& col);
// dkernel (+)= im2col(x)^T dy; dbias (+)= column sums of dy (null to skip). `col_valid`: col holds
// im2col(x) for the whole batch from the forward call.
void conv2d_backward_weight(const Conv2dGeometry& g, const float* x, const float* dy,
                            float* dkernel, float* dbias, bool accumulate, Tensor& col,
                            bool col_valid);
// dx = col2im(dy kernel^T); `dcol` is a workspace.
void conv2d_backward_input(const Conv2dGeometry& g, const float* dy, const float* kernel, float* dx,
                           Tensor& dcol);

// out[c] (+)= sum over rows of x[r, c], with per-chunk partials (fixed chunks of rows) combined in
// chunk order: parallel and still independent of the thread count.
void sum_rows_fixed(const float* x, float* out, int64_t rows, int64_t cols, bool accumulate);

}  // namespace kerasette

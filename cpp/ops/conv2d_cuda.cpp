#include "ops/conv2d_cuda.h"

#include <algorithm>

#include "core/error.h"
#include "ops/device_ops.h"
#ifdef KERASETTE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace kerasette {

int64_t conv2d_cuda_slice_images(const Conv2dGeometry& g) {
  const int64_t per_image = std::max<int64_t>(1, g.out_pixels() * g.k_group());
  return std::max<int64_t>(1, std::min<int64_t>(g.batch, kCudaIm2colMaxFloats / per_image));
}

#ifdef KERASETTE_WITH_CUDA

cuda::ConvGeometry device_geometry(const Conv2dGeometry& g) {
  cuda::ConvGeometry d;
  d.H = g.h.in;
  d.W = g.w.in;
  d.C = g.cin;
  d.OH = g.h.out;
  d.OW = g.w.out;
  d.KH = g.h.k;
  d.KW = g.w.k;
  d.sh = g.h.stride;
  d.sw = g.w.stride;
  d.dh = g.h.dilation;
  d.dw = g.w.dilation;
  d.ph = g.h.pad_before;
  d.pw = g.w.pad_before;
  return d;
}

// A grouped convolution runs group by group: im2col of the group's cin / groups channels (x read
// with the image's full pixel stride), then a GEMM against the group's columns of the kernel,
// (KH, KW, cin / groups, cout) as Keras stores it, whose rows are that group's taps. The col
// buffer holds one group at a time.
namespace {

struct Group {
  cuda::ConvGeometry dg;         // im2col geometry of one group
  int64_t cin_g, cout_g, cw_g;   // channels in and out, col row length
};

Group group_of(const Conv2dGeometry& g) {
  Group gr;
  gr.cin_g = g.cin / g.groups;
  gr.cout_g = g.cout / g.groups;
  gr.cw_g = g.k_group();
  gr.dg = device_geometry(g);
  gr.dg.C = gr.cin_g;
  gr.dg.x_stride = g.cin;
  return gr;
}

}  // namespace

bool conv2d_forward_cuda(const Conv2dGeometry& g, const float* x, const float* kernel,
                         const float* bias, Act act, float alpha, float* y, Tensor& col) {
  const int64_t P = g.out_pixels();
  const int64_t in_image = g.h.in * g.w.in * g.cin, out_image = P * g.cout;
  const Group gr = group_of(g);
  if (g.direct()) {  // 1x1, stride 1, unpadded: x is its own im2col
    for (int64_t k = 0; k < g.groups; ++k)
      cuda::gemm(false, false, g.batch * P, gr.cout_g, gr.cin_g, x + k * gr.cin_g, g.cin,
                 kernel + k * gr.cout_g, g.cout, y + k * gr.cout_g, g.cout, false,
                 bias ? bias + k * gr.cout_g : nullptr, act, alpha);
    return false;
  }
  const int64_t slice = conv2d_cuda_slice_images(g);
  col.resize({slice * P, gr.cw_g}, Device::CUDA);
  for (int64_t n0 = 0; n0 < g.batch; n0 += slice) {
    const int64_t nb = std::min(slice, g.batch - n0);
    for (int64_t k = 0; k < g.groups; ++k) {
      cuda::im2col(gr.dg, nb, x + n0 * in_image + k * gr.cin_g, col.data());
      cuda::gemm(false, false, nb * P, gr.cout_g, gr.cw_g, col.data(), gr.cw_g,
                 kernel + k * gr.cout_g, g.cout, y + n0 * out_image + k * gr.cout_g, g.cout,
                 false, bias ? bias + k * gr.cout_g : nullptr, act, alpha);
    }
  }
  // col still holds the whole batch's im2col only with one slice and one group.
  return slice >= g.batch && g.groups == 1;
}

void conv2d_backward_weight_cuda(const Conv2dGeometry& g, const float* x, const float* dy,
                                 float* dkernel, float* dbias, bool accumulate, Tensor& col,
                                 bool col_valid) {
  const int64_t P = g.out_pixels();
  const int64_t in_image = g.h.in * g.w.in * g.cin, out_image = P * g.cout;
  if (dbias) cuda::sum_rows(dy, dbias, g.batch * P, g.cout, accumulate);
  const Group gr = group_of(g);
  if (g.direct()) {
    for (int64_t k = 0; k < g.groups; ++k)
      cuda::gemm(true, false, gr.cin_g, gr.cout_g, g.batch * P, x + k * gr.cin_g, g.cin,
                 dy + k * gr.cout_g, g.cout, dkernel + k * gr.cout_g, g.cout, accumulate, nullptr,
                 Act::Linear, 0.0f);
    return;
  }
  const int64_t slice = conv2d_cuda_slice_images(g);
  col_valid = col_valid && g.groups == 1 && slice >= g.batch && col.device() == Device::CUDA &&
              col.numel() >= g.batch * P * gr.cw_g;
  if (!col_valid) col.resize({slice * P, gr.cw_g}, Device::CUDA);
  for (int64_t n0 = 0; n0 < g.batch; n0 += slice) {
    const int64_t nb = std::min(slice, g.batch - n0);
    for (int64_t k = 0; k < g.groups; ++k) {
      if (!col_valid) cuda::im2col(gr.dg, nb, x + n0 * in_image + k * gr.cin_g, col.data());
      cuda::gemm(true, false, gr.cw_g, gr.cout_g, nb * P, col.data(), gr.cw_g,
                 dy + n0 * out_image + k * gr.cout_g, g.cout, dkernel + k * gr.cout_g, g.cout,
                 accumulate || n0 > 0, nullptr, Act::Linear, 0.0f);
    }
  }
}

void conv2d_backward_input_cuda(const Conv2dGeometry& g, const float* dy, const float* kernel,
                                float* dx, Tensor& dcol) {
  const int64_t P = g.out_pixels();
  const int64_t in_image = g.h.in * g.w.in * g.cin, out_image = P * g.cout;
  const Group gr = group_of(g);
  if (g.direct()) {
    for (int64_t k = 0; k < g.groups; ++k)
      cuda::gemm(false, true, g.batch * P, gr.cin_g, gr.cout_g, dy + k * gr.cout_g, g.cout,
                 kernel + k * gr.cout_g, g.cout, dx + k * gr.cin_g, g.cin, false, nullptr,
                 Act::Linear, 0.0f);
    return;
  }
  const int64_t slice = conv2d_cuda_slice_images(g);
  dcol.resize({slice * P, gr.cw_g}, Device::CUDA);
  for (int64_t n0 = 0; n0 < g.batch; n0 += slice) {
    const int64_t nb = std::min(slice, g.batch - n0);
    for (int64_t k = 0; k < g.groups; ++k) {
      cuda::gemm(false, true, nb * P, gr.cw_g, gr.cout_g, dy + n0 * out_image + k * gr.cout_g,
                 g.cout, kernel + k * gr.cout_g, g.cout, dcol.data(), gr.cw_g, false, nullptr,
                 Act::Linear, 0.0f);
      cuda::col2im(gr.dg, nb, dcol.data(), dx + n0 * in_image + k * gr.cin_g);
    }
  }
}

#else  // CPU-only build

bool conv2d_forward_cuda(const Conv2dGeometry&, const float*, const float*, const float*, Act,
                         float, float*, Tensor&) {
  no_cuda_build("conv2d_forward");
}
void conv2d_backward_weight_cuda(const Conv2dGeometry&, const float*, const float*, float*, float*,
                                 bool, Tensor&, bool) {
  no_cuda_build("conv2d_backward_weight");
}
void conv2d_backward_input_cuda(const Conv2dGeometry&, const float*, const float*, float*,
                                Tensor&) {
  no_cuda_build("conv2d_backward_input");
}

#endif  // KERASETTE_WITH_CUDA

}  // namespace kerasette

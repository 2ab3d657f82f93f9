#include "ops/conv2d_cuda.h"

#include <algorithm>

#include "core/error.h"
#include "ops/device_ops.h"
#ifdef KERASETTE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace kerasette {

int64_t conv2d_cuda_slice_images(const Conv2dGeometry& g) {
  const int64_t per_image = std::max<int64_t>(1, g.out_pixels() * g.col_width());
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

namespace {

void check_groups(const Conv2dGeometry& g) {
  if (g.groups != 1)
    throw NotImplementedError(str_cat("Conv2D with groups=", g.groups,
                                      " has no CUDA implementation yet (groups=1 only)"));
}


}  // namespace

bool conv2d_forward_cuda(const Conv2dGeometry& g, const float* x, const float* kernel,
                         const float* bias, Act act, float alpha, float* y, Tensor& col) {
  check_groups(g);
  const int64_t P = g.out_pixels(), CW = g.col_width();
  const int64_t in_image = g.h.in * g.w.in * g.cin, out_image = P * g.cout;
  if (g.direct()) {
    cuda::gemm(false, false, g.batch * P, g.cout, g.cin, x, g.cin, kernel, g.cout, y, g.cout,
               false, bias, act, alpha);
    return false;
  }
  const cuda::ConvGeometry dg = device_geometry(g);
  const int64_t slice = conv2d_cuda_slice_images(g);
  col.resize({slice * P, CW}, Device::CUDA);
  for (int64_t n0 = 0; n0 < g.batch; n0 += slice) {
    const int64_t nb = std::min(slice, g.batch - n0);
    cuda::im2col(dg, nb, x + n0 * in_image, col.data());
    cuda::gemm(false, false, nb * P, g.cout, CW, col.data(), CW, kernel, g.cout,
               y + n0 * out_image, g.cout, false, bias, act, alpha);
  }
  return slice >= g.batch;
}

void conv2d_backward_weight_cuda(const Conv2dGeometry& g, const float* x, const float* dy,
                                 float* dkernel, float* dbias, bool accumulate, Tensor& col,
                                 bool col_valid) {
  check_groups(g);
  const int64_t P = g.out_pixels(), CW = g.col_width();
  const int64_t in_image = g.h.in * g.w.in * g.cin, out_image = P * g.cout;
  if (dbias) cuda::sum_rows(dy, dbias, g.batch * P, g.cout, accumulate);
  if (g.direct()) {
    cuda::gemm(true, false, g.cin, g.cout, g.batch * P, x, g.cin, dy, g.cout, dkernel, g.cout,
               accumulate, nullptr, Act::Linear, 0.0f);
    return;
  }
  const cuda::ConvGeometry dg = device_geometry(g);
  const int64_t slice = conv2d_cuda_slice_images(g);
  col_valid = col_valid && slice >= g.batch && col.device() == Device::CUDA &&
              col.numel() >= g.batch * P * CW;
  if (!col_valid) col.resize({slice * P, CW}, Device::CUDA);
  for (int64_t n0 = 0; n0 < g.batch; n0 += slice) {
    const int64_t nb = std::min(slice, g.batch - n0);
    if (!col_valid) cuda::im2col(dg, nb, x + n0 * in_image, col.data());
    cuda::gemm(true, false, CW, g.cout, nb * P, col.data(), CW, dy + n0 * out_image, g.cout,
               dkernel, g.cout, accumulate || n0 > 0, nullptr, Act::Linear, 0.0f);
  }
}

void conv2d_backward_input_cuda(const Conv2dGeometry& g, const float* dy, const float* kernel,
                                float* dx, Tensor& dcol) {
  check_groups(g);
  const int64_t P = g.out_pixels(), CW = g.col_width();
  const int64_t in_image = g.h.in * g.w.in * g.cin, out_image = P * g.cout;
  if (g.direct()) {
    cuda::gemm(false, true, g.batch * P, g.cin, g.cout, dy, g.cout, kernel, g.cout, dx, g.cin,
               false, nullptr, Act::Linear, 0.0f);
    return;
  }
  const cuda::ConvGeometry dg = device_geometry(g);
  const int64_t slice = conv2d_cuda_slice_images(g);
  dcol.resize({slice * P, CW}, Device::CUDA);
  for (int64_t n0 = 0; n0 < g.batch; n0 += slice) {
    const int64_t nb = std::min(slice, g.batch - n0);
    cuda::gemm(false, true, nb * P, CW, g.cout, dy + n0 * out_image, g.cout, kernel, g.cout,
               dcol.data(), CW, false, nullptr, Act::Linear, 0.0f);
    cuda::col2im(dg, nb, dcol.data(), dx + n0 * in_image);
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

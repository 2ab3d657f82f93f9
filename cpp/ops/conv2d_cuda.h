// 2-D convolution on the CUDA device: the device counterparts of ops/conv2d.h's
// conv2d_forward / conv2d_backward_weight / conv2d_backward_input, same arguments (device
// pointers; the workspaces become device tensors). 1x1 stride-1 unpadded kernels use the input as
// the GEMM operand directly; everything else is im2col on the GPU into the cached workspace, then
// the tiled GEMM (bias + activation in its epilogue). The backward passes are GEMMs (each output
// one thread's fixed-order chain) and a gather col2im: no atomics, the same bits on every run.
// A grouped convolution runs group by group (im2col reads one group's channels with the image's
// pixel stride). In a CPU-only build these throw as no_cuda_build does.
#pragma once
#include "ops/conv2d.h"
#ifdef KERASETTE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace kerasette {

// Images per im2col slice on the device (the workspace, one group of the columns at a time,
// stays under kCudaIm2colMaxFloats).
constexpr int64_t kCudaIm2colMaxFloats = int64_t{1} << 25;
int64_t conv2d_cuda_slice_images(const Conv2dGeometry& g);

bool conv2d_forward_cuda(const Conv2dGeometry& g, const float* x, const float* kernel,
                         const float* bias, Act act, float alpha, float* y, Tensor& col);
void conv2d_backward_weight_cuda(const Conv2dGeometry& g, const float* x, const float* dy,
                                 float* dkernel, float* dbias, bool accumulate, Tensor& col,
                                 bool col_valid);
#ifdef KERASETTE_WITH_CUDA
// The window geometry as the CUDA kernels take it (convolution and pooling).
cuda::ConvGeometry device_geometry(const Conv2dGeometry& g);
#endif

void conv2d_backward_input_cuda(const Conv2dGeometry& g, const float* dy, const float* kernel,
                                float* dx, Tensor& dcol);

}  // namespace kerasette

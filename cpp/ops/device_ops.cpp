#include "ops/device_ops.h"

#include <cmath>

#include "core/error.h"
#include "ops/dispatch.h"
#ifdef KERASETTE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#define KS_ON_CUDA(device, ...) \
  if ((device) == Device::CUDA) return __VA_ARGS__
#else
#define KS_ON_CUDA(device, ...) \
  if ((device) == Device::CUDA) no_cuda_build(__func__)
#endif

namespace kerasette {

void no_cuda_build(const char* what) {
  throw NotImplementedError(str_cat(what, ": this build of kerasette has no CUDA backend "
                                          "(rebuild with -Ccmake.define.KERASETTE_CUDA=ON)"));
}

void gemm_on(Device device, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A,
             int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate,
             const GemmEpilogue* ep) {
  KS_ON_CUDA(device, cuda::gemm(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, accumulate,
                                ep ? ep->bias : nullptr, ep ? ep->act : Act::Linear,
                                ep ? ep->alpha : 0.0f));
  gemm(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, accumulate, ep);
}

void sum_rows_on(Device device, const float* x, float* out, int64_t rows, int64_t cols,
                 bool accumulate) {
  KS_ON_CUDA(device, cuda::sum_rows(x, out, rows, cols, accumulate));
  cpu_kernels().sum_rows(x, out, rows, cols, accumulate);
}

void add_bias_rows_on(Device device, float* y, const float* bias, int64_t rows, int64_t cols) {
  KS_ON_CUDA(device, cuda::add_bias_rows(y, bias, rows, cols));
  cpu_kernels().add_bias_rows(y, bias, rows, cols);
}

void axpy_on(Device device, int64_t n, float a, const float* x, float* y) {
  KS_ON_CUDA(device, cuda::axpy(n, a, x, y));
  cpu_kernels().axpy(n, a, x, y);
}

void scale_on(Device device, float* x, int64_t n, float a) {
  KS_ON_CUDA(device, cuda::scale(x, n, a));
  for (int64_t i = 0; i < n; ++i) x[i] *= a;
}

void clip_on(Device device, float* x, int64_t n, float lo, float hi) {
  KS_ON_CUDA(device, cuda::clip(x, n, lo, hi));
  for (int64_t i = 0; i < n; ++i) x[i] = std::fmin(std::fmax(x[i], lo), hi);
}

double sum_squares_on(Device device, const float* x, int64_t n) {
  KS_ON_CUDA(device, cuda::sum_squares(x, n));
  return cpu_kernels().sum_squares(x, n);
}

}  // namespace kerasette

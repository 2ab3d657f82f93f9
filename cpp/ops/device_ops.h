// Ops that run where their tensors live: the CPU kernels for CPU pointers, the CUDA kernels
// (kernels/cuda/cuda_kernels.h) for device pointers. Layers with a CUDA path call these with
// their input's device; in a CPU-only build the CUDA branch throws.
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "ops/gemm.h"

namespace kerasette {

void gemm_on(Device device, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
             const float* A, int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc,
             bool accumulate = false, const GemmEpilogue* epilogue = nullptr);
void sum_rows_on(Device device, const float* x, float* out, int64_t rows, int64_t cols,
                 bool accumulate);
void add_bias_rows_on(Device device, float* y, const float* bias, int64_t rows, int64_t cols);
void axpy_on(Device device, int64_t n, float a, const float* x, float* y);
void scale_on(Device device, float* x, int64_t n, float a);
void clip_on(Device device, float* x, int64_t n, float lo, float hi);
double sum_squares_on(Device device, const float* x, int64_t n);  // synchronizes on CUDA

// Throws the error a CPU-only build gives for any CUDA work.
[[noreturn]] void no_cuda_build(const char* what);

}  // namespace kerasette

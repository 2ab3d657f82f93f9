// Rescaling's per-channel affine map and Embedding's gather / grouped scatter-add (see
// cuda_kernels.h for the contracts; nn/embedding.cpp for the CPU loops they mirror).
#include "kernels/cuda/device_common.cuh"

namespace kerasette::cuda {
namespace {

__global__ void scale_offset_kernel(const float* x, float* y, int64_t n, const float* scale,
                                    const float* offset, int64_t k) {
  KS_GRID_STRIDE(i, n) {
    const int64_t j = i % k;
    const float v = x[i] * scale[j];
    y[i] = offset ? v + offset[j] : v;
  }
}

__global__ void embedding_gather_kernel(const float* idx, const float* table, float* out,
                                        int64_t rows, int64_t dim) {
  KS_GRID_STRIDE(i, rows * dim) {
    const int64_t r = i / dim, c = i % dim;
    out[i] = table[static_cast<int64_t>(idx[r]) * dim + c];
  }
}

__global__ void embedding_scatter_kernel(const float* dy, const int32_t* row_ids,
                                         const int32_t* offsets, const int32_t* positions,
                                         float* grad, int64_t touched, int64_t dim) {
  KS_GRID_STRIDE(i, touched * dim) {
    const int64_t u = i / dim, c = i % dim;
    float acc = 0.0f;
    for (int32_t p = offsets[u]; p < offsets[u + 1]; ++p)
      acc += dy[static_cast<int64_t>(positions[p]) * dim + c];
    grad[static_cast<int64_t>(row_ids[u]) * dim + c] += acc;
  }
}

}  // namespace

void scale_offset(const float* x, float* y, int64_t n, const float* scale, const float* offset,
                  int64_t k) {
  if (n <= 0) return;
  scale_offset_kernel<<<grid_for(n), kThreads>>>(x, y, n, scale, offset, k);
  check_launch("scale_offset");
}

void embedding_gather(const float* idx, const float* table, float* out, int64_t rows, int64_t dim) {
  if (rows <= 0 || dim <= 0) return;
  embedding_gather_kernel<<<grid_for(rows * dim), kThreads>>>(idx, table, out, rows, dim);
  check_launch("embedding_gather");
}

void embedding_scatter_add(const float* dy, const int32_t* row_ids, const int32_t* offsets,
                           const int32_t* positions, float* grad, int64_t touched, int64_t dim) {
  if (touched <= 0 || dim <= 0) return;
  embedding_scatter_kernel<<<grid_for(touched * dim), kThreads>>>(dy, row_ids, offsets, positions,
                                                                  grad, touched, dim);
  check_launch("embedding_scatter_add");
}

}  // namespace kerasette::cuda

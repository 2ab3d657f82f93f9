// Elementwise merges of k inputs (the Add, Subtract, Multiply, Average, Maximum and Minimum
// layers), forward and backward, in the CPU's operation order (nn/merge_layers.cpp): the inputs are
// combined left to right, and a product's gradient multiplies the other inputs in input order, so
// the GPU agrees with the CPU up to FMA contraction. The input pointers travel by value in the
// kernel's parameters (at most kMaxMergeInputs of them).
#include "kernels/cuda/device_common.cuh"

namespace kerasette::cuda {
namespace {

struct Inputs {
  const float* p[kMaxMergeInputs];
};

Inputs pack(const float* const* inputs, int k) {
  Inputs in{};
  for (int j = 0; j < k; ++j) in.p[j] = inputs[j];
  return in;
}

__global__ void merge_forward_kernel(MergeKind op, Inputs in, int k, float* __restrict__ out,
                                     int64_t n) {
  KS_GRID_STRIDE(i, n) {
    float acc = in.p[0][i];
    for (int j = 1; j < k; ++j) {
      const float v = in.p[j][i];
      switch (op) {
        case MergeKind::Add:
        case MergeKind::Average: acc += v; break;
        case MergeKind::Subtract: acc -= v; break;
        case MergeKind::Multiply: acc *= v; break;
        case MergeKind::Maximum: acc = fmaxf(acc, v); break;
        case MergeKind::Minimum: acc = fminf(acc, v); break;
      }
    }
    out[i] = op == MergeKind::Average ? acc / static_cast<float>(k) : acc;
  }
}

__global__ void merge_backward_kernel(MergeKind op, Inputs in, int k, int j,
                                      const float* __restrict__ out,
                                      const float* __restrict__ dy, float* __restrict__ dx,
                                      int64_t n) {
  KS_GRID_STRIDE(i, n) {
    float g = dy[i];
    switch (op) {
      case MergeKind::Add: break;
      case MergeKind::Average: g /= static_cast<float>(k); break;
      case MergeKind::Subtract: g = j == 0 ? g : -g; break;
      case MergeKind::Multiply:
        for (int m = 0; m < k; ++m)
          if (m != j) g *= in.p[m][i];
        break;
      case MergeKind::Maximum:
      case MergeKind::Minimum: {  // to the first input holding the winning value
        int winner = 0;
        for (int m = 0; m < k; ++m)
          if (in.p[m][i] == out[i]) {
            winner = m;
            break;
          }
        g = winner == j ? g : 0.0f;
        break;
      }
    }
    dx[i] = g;
  }
}

}  // namespace

void merge_forward(MergeKind op, const float* const* inputs, int k, float* out, int64_t n) {
  if (n <= 0) return;
  merge_forward_kernel<<<grid_for(n), kThreads>>>(op, pack(inputs, k), k, out, n);
  check_launch("merge_forward");
}

void merge_backward(MergeKind op, const float* const* inputs, int k, int j, const float* out,
                    const float* dy, float* dx, int64_t n) {
  if (n <= 0) return;
  merge_backward_kernel<<<grid_for(n), kThreads>>>(op, pack(inputs, k), k, j, out, dy, dx, n);
  check_launch("merge_backward");
}

}  // namespace kerasette::cuda

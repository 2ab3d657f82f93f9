// Elementwise kernels for one ISA: bias add, column sums, axpy and the deterministic reductions.
// These are plain loops that GCC vectorizes at this ISA's width (-O3); activations and softmax,
// which need vectorized transcendentals, live in activations.cpp.
#include <cstdint>
#include <cstring>

#include "kernels/cpu/kernels.h"

namespace kerasette::cpu::KS_ISA {

void fill_activations(CpuKernels& t);  // activations.cpp

namespace {

void add_bias_rows(float* __restrict y, const float* __restrict bias, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    float* __restrict yr = y + r * cols;
    for (int64_t c = 0; c < cols; ++c) yr[c] += bias[c];
  }
}

// Each column is summed in row order (starting from out[c] or 0), so the result is the same on
// every ISA. Columns are taken in blocks that keep out's block in L1 while rows stream past.
void sum_rows(const float* __restrict x, float* __restrict out, int64_t rows, int64_t cols,
              bool accumulate) {
  constexpr int64_t kBlock = 2048;
  if (!accumulate) std::memset(out, 0, (size_t)cols * sizeof(float));
  for (int64_t c0 = 0; c0 < cols; c0 += kBlock) {
    const int64_t nc = cols - c0 < kBlock ? cols - c0 : kBlock;
    float* __restrict o = out + c0;
    for (int64_t r = 0; r < rows; ++r) {
      const float* __restrict xr = x + r * cols + c0;
      for (int64_t c = 0; c < nc; ++c) o[c] += xr[c];
    }
  }
}

void axpy(int64_t n, float a, const float* __restrict x, float* __restrict y) {
  for (int64_t i = 0; i < n; ++i) y[i] = a * x[i] + y[i];
}

// Deterministic reductions: element i goes to double lane i % 16 and each lane adds in index
// order; the 16 lanes are then combined by a fixed pairwise tree. float -> double (and a float
// square in double) is exact, so the result depends only on n and the data -- the same bits on
// every ISA -- and carries double rounding error only. The lane loop vectorizes (cvtps2pd + addpd).
constexpr int kLanes = 16;

double combine(double* acc) {
  for (int w = kLanes / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
  return acc[0];
}

double sum(const float* x, int64_t n) {
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += (double)x[i + j];
  for (int j = 0; i + j < n; ++j) acc[j] += (double)x[i + j];
  return combine(acc);
}

double sum_squares(const float* x, int64_t n) {
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) {
      const double v = (double)x[i + j];
      acc[j] += v * v;  // exact square: a contracted FMA gives the same bits
    }
  }
  for (int j = 0; i + j < n; ++j) {
    const double v = (double)x[i + j];
    acc[j] += v * v;
  }
  return combine(acc);
}

}  // namespace

void fill_elementwise(CpuKernels& t) {
  fill_activations(t);
  t.add_bias_rows = add_bias_rows;
  t.sum_rows = sum_rows;
  t.axpy = axpy;
  t.sum = sum;
  t.sum_squares = sum_squares;
}

}  // namespace kerasette::cpu::KS_ISA

// Packing of a GEMM A micro-panel gathered from anywhere in memory, for the implicit-GEMM
// convolutions of ops/conv2d.cpp. pack_a_rows: one pointer per row, each row contiguous along k
// (forward: row i is a window row of output pixel i, read in place from the image).
// pack_a_columns: one pointer per column, each contiguous along m (weight gradient: column p is
// output pixel p, its rows are input channels of one kernel tap, adjacent in NHWC). Same layout
// as pack_a (mr x k, column-major), so the micro-kernel is unchanged.
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
#include <immintrin.h>
#endif

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/simd.h"
#include "kernels/cpu/transpose8.h"

namespace kerasette::cpu::KS_ISA {
namespace {

void pack_a_rows(int64_t m, int64_t mr, int64_t k, const float* const* rows, float* packed) {
  int64_t p = 0;
  for (; p + 8 <= k; p += 8) {
    int64_t i = 0;
    const auto from = [rows, &i, p](int r) { return rows[i + r] + p; };  // rows i, i + 1, ...
    for (; i + 8 <= m; i += 8) transpose_rx8<8>(from, packed + p * mr + i, mr);
    if (i + 4 <= m) {
      transpose_rx8<4>(from, packed + p * mr + i, mr);
      i += 4;
    }
    for (; i < m; ++i)
      for (int64_t q = p; q < p + 8; ++q) packed[q * mr + i] = rows[i][q];
  }
  for (; p < k; ++p)
    for (int64_t i = 0; i < m; ++i) packed[p * mr + i] = rows[i][p];
  if (m < mr)
    for (p = 0; p < k; ++p)
      for (int64_t i = m; i < mr; ++i) packed[p * mr + i] = 0.0f;
}

void pack_a_columns(int64_t m, int64_t mr, int64_t k, const float* const* cols, float* packed) {
  for (int64_t p = 0; p < k; ++p) {
    const float* src = cols[p];
    float* dst = packed + p * mr;
    for (int64_t i = 0; i < m; i += kW) {
      const int64_t r = m - i < kW ? m - i : kW;
      store_n(dst + i, src ? load_n(src + i, r) : vf{}, r);
    }
  }
}

}  // namespace

void fill_pack_gather(CpuKernels& t) {
  t.pack_a_rows = pack_a_rows;
  t.pack_a_columns = pack_a_columns;
}

}  // namespace kerasette::cpu::KS_ISA

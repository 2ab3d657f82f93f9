// Per-column sums over rows in an order that does not depend on the thread count, shared by the
// normalization layers' statistics and parameter gradients.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/parallel.h"

namespace kerasette {

constexpr int64_t kColumnSumRowsPerChunk = 256;

// out[j] = sum over rows r of f(r, j), for j < cols. Each fixed chunk of rows is summed in double,
// and the chunks are combined in chunk order: the same bits on any thread count.
template <typename F>
void column_sums(int64_t rows, int64_t cols, std::vector<double>& out, F&& f) {
  const int64_t chunks = (rows + kColumnSumRowsPerChunk - 1) / kColumnSumRowsPerChunk;
  std::vector<double> partial(static_cast<size_t>(std::max<int64_t>(chunks, 1) * cols), 0.0);
  parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double* p = partial.data() + c * cols;
      const int64_t r1 = std::min(rows, (c + 1) * kColumnSumRowsPerChunk);
      for (int64_t r = c * kColumnSumRowsPerChunk; r < r1; ++r)
        for (int64_t j = 0; j < cols; ++j) p[j] += f(r, j);
    }
  });
  out.assign(static_cast<size_t>(cols), 0.0);
  for (int64_t c = 0; c < chunks; ++c)
    for (int64_t j = 0; j < cols; ++j) out[j] += partial[c * cols + j];
}

}  // namespace kerasette

// Parallel loops with fixed chunking. Work is cut into chunks whose boundaries depend only on the
// problem size, never on the thread count, and any reduction combines per-chunk partials in chunk
// order: results are bit-identical whatever the number of threads.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace kerasette {

int num_threads();
void set_num_threads(int n);

// Calls fn(begin, end) for consecutive chunks of [0, n) of size `chunk` (the last may be shorter).
// Runs serially when there is a single chunk or when already inside a parallel region.
template <typename Fn>
void parallel_for(int64_t n, int64_t chunk, Fn&& fn) {
  if (n <= 0) return;
  if (chunk < 1) chunk = 1;
  const int64_t chunks = (n + chunk - 1) / chunk;
  if (chunks == 1 || omp_in_parallel() || omp_get_max_threads() == 1) {
    for (int64_t c = 0; c < chunks; ++c) fn(c * chunk, std::min(n, (c + 1) * chunk));
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) fn(c * chunk, std::min(n, (c + 1) * chunk));
}

// A chunk size that gives roughly `grain` elements of work per chunk.
inline int64_t chunk_for(int64_t n, int64_t grain) { return std::max<int64_t>(1, std::min(n, grain)); }

}  // namespace kerasette

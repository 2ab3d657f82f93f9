// GEMM driver: BLIS-style loops over the packing routines and micro-kernel of the current ISA.
//
// Loop order (per thread, over its own rectangle of C):
//   ic over M by mc -> pc over K by kc -> pack A block (mc x kc)
//     -> jc over N by nc -> pack B block (kc x nc, sized for L2)
//       -> ir over A micro-panels (mr rows, stays in L1) -> jr over B micro-panels (from L2).
// The micro-tile is wide in N (the vector dimension), so the narrow A micro-panel is the one kept
// in L1 and the wide B side streams from L2; a large mc means A is packed once per K block.
//
// Threads: C is cut into a tm x tn grid of rectangles aligned to mr x nr, one per thread, each
// running the serial loops with its own packing buffers: no barriers, and only the operand that
// is shared along the cut is packed twice (the grid is picked to make that the smaller one: for
// the skinny M of deep learning the threads split N and each packs the small A).
//
// When the thread's columns fit one nc block (the common N <= 512 of deep learning), B is packed
// first and each A micro-panel is packed just before its micro-kernel calls, so the packed A
// stays in L1 instead of going through an mc x kc block in L2/L3. gemm_pack_a() supplies the A
// micro-panels from a caller's routine (implicit GEMM) through the same loops.
//
// Determinism: K is never split across threads and the K blocking depends only on K, so every C
// element is the same chain of FMAs (micro-kernel) and block adds, in the same order, whatever
// the thread count or the grid. (A long K under a few output tiles is cut into fixed chunks whose
// partial products are added in chunk order: the choice and the chunks depend on the shape only.)
#include "ops/gemm.h"

#include <omp.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <exception>
#include <new>
#include <vector>

#include "core/parallel.h"
#include "ops/dispatch.h"

namespace kerasette {
namespace {

// Thread-local packing scratch: 64-byte aligned, grown on demand and reused, so steady-state
// calls do not allocate.
class PackBuffer {
 public:
  PackBuffer() = default;
  PackBuffer(const PackBuffer&) = delete;
  PackBuffer& operator=(const PackBuffer&) = delete;
  ~PackBuffer() { std::free(data_); }

  float* get(size_t count) {
    if (count > capacity_) {
      std::free(data_);
      data_ = nullptr;
      capacity_ = 0;
      const size_t bytes = (count * sizeof(float) + 63) / 64 * 64;
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!data_) throw std::bad_alloc();
      capacity_ = bytes / sizeof(float);
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  size_t capacity_ = 0;
};

thread_local PackBuffer t_pack_a;
thread_local PackBuffer t_pack_b;

struct Problem {
  const float* a;
  int64_t a_rs, a_cs;  // element (i, p) of op(A) at a[i * a_rs + p * a_cs]
  const float* b;
  int64_t b_rs, b_cs;  // element (p, j) of op(B) at b[p * b_rs + j * b_cs]
  float* c;
  int64_t ldc;
  int64_t K;
  int64_t kc;  // K block, a function of K only (determinism)
  bool accumulate;
  const GemmEpilogue* epilogue;  // null when there is nothing to apply
  const GemmPackA* a_packer = nullptr;  // set: A panels come from it (a is unused)
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// K cut into near-equal blocks of at most kc (rounded to 8 for the 8-wide packing transposes):
// K = 784 gives 200 + 200 + 200 + 184 rather than 3 x 256 + 16, so no block is too short to
// amortize its C update. A function of K alone, so the summation order never depends on threads.
int64_t k_block(int64_t K, int64_t kc_max) {
  const int64_t blocks = ceil_div(K, kc_max);
  return std::min(K, round_up(ceil_div(K, blocks), 8));
}

void apply_epilogue(const CpuKernels& kt, const GemmEpilogue& ep, float* c, int64_t ldc,
                    int64_t rows, int64_t col0, int64_t cols) {
  for (int64_t i = 0; i < rows; ++i) {
    float* row = c + i * ldc;
    if (ep.bias) {
      const float* bias = ep.bias + col0;
      for (int64_t j = 0; j < cols; ++j) row[j] += bias[j];
    }
    if (ep.act != Act::Linear) kt.act_forward(ep.act, ep.alpha, row, row, cols);
  }
}

// The serial BLIS loops over C[m0:m1, n0:n1].
void gemm_block(const CpuKernels& kt, const Problem& pr, int64_t m0, int64_t m1, int64_t n0,
                int64_t n1) {
  const int64_t mr = kt.mr, nr = kt.nr;
  // M and N blocks of near-equal size (a 1032-row region is 2 x 516, not 1024 + 8); they only
  // set the loop tiling, never the order in which a C element is accumulated.
  const int64_t mc = round_up(ceil_div(m1 - m0, ceil_div(m1 - m0, kt.mc)), mr);
  const int64_t nc = round_up(ceil_div(n1 - n0, ceil_div(n1 - n0, kt.nc)), nr);
  const int64_t K = pr.K, kc = pr.kc;
  const int64_t mb_max = std::min(mc, m1 - m0), nb_max = std::min(nc, n1 - n0);
  // One column block: each A micro-panel is used by a single sweep over jr, so pack it right
  // before that sweep (it stays in L1) rather than the whole mc x kc block up front. A single
  // micro-panel of columns: each A element is used once, so A is read in place, not packed.
  const bool panel_wise = nb_max == n1 - n0;
  const bool a_in_place = !pr.a_packer && pr.a_cs == 1 && n1 - n0 <= nr;
  // A few micro-panels of rows (a small batch): each B element serves only those few tiles, so
  // packing B costs about what it saves. Full-width B panels are then read in place (streamed
  // from L2 like a packed panel) and only a narrower last one is packed; not when B's rows are a
  // multiple of 4 KiB apart, where a panel's rows would all compete for a few cache sets.
  const bool b_in_place = !a_in_place && pr.b_cs == 1 && m1 - m0 <= 4 * mr &&
                          (pr.b_rs * static_cast<int64_t>(sizeof(float))) % 4096 != 0;
  float* pa = t_pack_a.get(static_cast<size_t>((panel_wise ? mr : round_up(mb_max, mr)) *
                                               std::min(kc, K)));
  float* pb = t_pack_b.get(static_cast<size_t>(round_up(nb_max, nr) * std::min(kc, K)));
  // Micro-panel of A rows [i, i + m), K columns [pc, pc + kb).
  auto pack_panel = [&](int64_t i, int64_t m, int64_t pc, int64_t kb, float* dst) {
    if (pr.a_packer)
      (*pr.a_packer)(i, m, pc, kb, dst);
    else
      kt.pack_a(m, kb, pr.a + i * pr.a_rs + pc * pr.a_cs, pr.a_rs, pr.a_cs, dst);
  };

  for (int64_t ic = m0; ic < m1; ic += mc) {
    const int64_t mb = std::min(mc, m1 - ic);
    for (int64_t pc = 0; pc < K; pc += kc) {
      const int64_t kb = std::min(kc, K - pc);
      const bool acc = pr.accumulate || pc > 0;
      const bool last = pc + kb == K;
      if (!panel_wise)
        for (int64_t ir = 0; ir < mb; ir += mr)
          pack_panel(ic + ir, std::min(mr, mb - ir), pc, kb, pa + ir * kb);
      for (int64_t jc = n0; jc < n1; jc += nc) {
        const int64_t nb = std::min(nc, n1 - jc);
        const float* b_block = pr.b + pc * pr.b_rs + jc * pr.b_cs;
        const int64_t in_place = b_in_place ? nb / nr * nr : 0;  // columns read in place
        if (in_place < nb)
          kt.pack_b(kb, nb - in_place, b_block + in_place * pr.b_cs, pr.b_rs, pr.b_cs, pb);
        for (int64_t ir = 0; ir < mb; ir += mr) {
          const int64_t m = std::min(mr, mb - ir);
          float* crow = pr.c + (ic + ir) * pr.ldc + jc;
          if (a_in_place) {
            kt.gemm_ukernel_rows(kb, pr.a + (ic + ir) * pr.a_rs + pc, pr.a_rs, pb, crow, pr.ldc,
                                 m, nb, acc);
            if (last && pr.epilogue) apply_epilogue(kt, *pr.epilogue, crow, pr.ldc, m, jc, nb);
            continue;
          }
          const float* ap = pa + ir * kb;
          if (panel_wise) {
            pack_panel(ic + ir, m, pc, kb, pa);
            ap = pa;
          }
          for (int64_t jr = 0; jr < nb; jr += nr) {
            if (jr < in_place)
              kt.gemm_ukernel_b_rows(kb, ap, b_block + jr, pr.b_rs, crow + jr, pr.ldc, m, acc);
            else
              kt.gemm_ukernel(kb, ap, pb + (jr - in_place) * kb, crow + jr, pr.ldc, m,
                              std::min(nr, nb - jr), acc);
          }
          // The strip (m x nb) is finished and still in L1/L2: apply the epilogue now.
          if (last && pr.epilogue) apply_epilogue(kt, *pr.epilogue, crow, pr.ldc, m, jc, nb);
        }
      }
    }
  }
}

struct Grid {
  int tm = 1, tn = 1;
};

// Picks the thread grid minimizing the estimated time of the slowest thread: its multiply-adds
// (tiles padded to mr x nr) plus the floats it packs, weighted by what packing one float costs in
// multiply-adds (~12 lanes: a zmm FMA does 16 per cycle, packing ~1 float per cycle).
Grid choose_grid(const CpuKernels& kt, int64_t M, int64_t N, int64_t K, int threads) {
  const int64_t mr = kt.mr, nr = kt.nr;
  const int64_t row_panels = ceil_div(M, mr), col_panels = ceil_div(N, nr);
  Grid best;
  double best_cost = -1.0;
  for (int tm = 1; tm <= threads; ++tm) {
    const int tn = threads / tm;
    if (tm > row_panels || tn > col_panels) continue;
    const double rows = static_cast<double>(ceil_div(row_panels, tm) * mr);
    const double cols = static_cast<double>(ceil_div(col_panels, tn) * nr);
    const double b_packs = static_cast<double>(ceil_div(static_cast<int64_t>(rows), kt.mc));
    const double cost = rows * cols * K + 12.0 * K * (rows + cols * b_packs);
    if (best_cost < 0 || cost < best_cost) {
      best_cost = cost;
      best.tm = tm;
      best.tn = tn;
    }
  }
  return best;
}

thread_local std::vector<int32_t> t_k_index;

// The k positions where some row of A is nonzero, in t_k_index, when there are few enough of them
// to be worth skipping the rest (ReLU activations are about half zeros, image pixels often more);
// null when A is dense. Skipping a row of B whose multiplier is 0 leaves every sum bit-identical
// as long as that row is finite (an inf or NaN weight times 0 would have made the output NaN).
const int32_t* nonzero_k(const CpuKernels& kt, int64_t M, int64_t K, const float* A, int64_t a_rs,
                         int64_t a_cs, int64_t& nk) {
  std::vector<int32_t>& index = t_k_index;
  // The kernel stores whole vectors past the last kept position: room for one more.
  index.resize(static_cast<size_t>(K + 16));
  const int64_t count = kt.nonzero_columns(M, K, A, a_rs, a_cs, index.data());
  if (count * 8 > K * 7) return nullptr;  // under 1/8 zeros: the plain loop streams better
  nk = count;
  return index.data();
}

// A few rows: B streamed in place by column blocks, the blocks shared among threads. Each C
// element is one chain over K in a fixed order, whatever the thread count.
void gemm_small(const CpuKernels& kt, bool trans_a, int64_t M, int64_t N, int64_t K,
                const float* A, int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc,
                bool accumulate, const GemmEpilogue* ep) {
  const int64_t a_rs = trans_a ? 1 : lda, a_cs = trans_a ? lda : 1;
  int64_t nk = K;
  const int32_t* k_index = K <= INT32_MAX ? nonzero_k(kt, M, K, A, a_rs, a_cs, nk) : nullptr;
  const int64_t block = kt.small_m_block;
  const int64_t blocks = ceil_div(N, block);
  auto run = [&](int64_t b0, int64_t b1) {
    const int64_t n0 = b0 * block, n1 = std::min(N, b1 * block);
    kt.gemm_small_m(M, n1 - n0, nk, k_index, A, a_rs, a_cs, B + n0, ldb, C + n0, ldc, accumulate);
    if (ep) apply_epilogue(kt, *ep, C + n0, ldc, M, n0, n1 - n0);
  };
  // Worth a second thread from ~64K multiply-adds on (a fork/join costs a microsecond or two).
  const int64_t per_chunk = std::max<int64_t>(1, (65536 / std::max<int64_t>(1, M * nk * block)));
  if (omp_in_parallel() || blocks <= per_chunk || omp_get_max_threads() == 1) {
    run(0, blocks);
    return;
  }
  const int64_t chunks = ceil_div(blocks, per_chunk);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) run(c * per_chunk, std::min(blocks, (c + 1) * per_chunk));
}

// A long K under a few output tiles (a convolution's kernel gradient through im2col: taps x
// channels by pixels) leaves the thread grid nothing to split, so K is cut into fixed chunks
// instead: each chunk's product goes to its own partial C, and the partials are added in chunk
// order. Whether to split, the chunk length and the order depend on the shape alone, so the
// bits do not depend on the thread count.
constexpr int64_t kKChunk = 4096;

bool k_split_applies(const CpuKernels& kt, const Problem& pr, int64_t M, int64_t N) {
  return !pr.a_packer && ceil_div(M, kt.mr) * ceil_div(N, kt.nr) <= 4 && pr.K >= 4 * kKChunk;
}

void run_k_split(const CpuKernels& kt, const Problem& pr, int64_t M, int64_t N) {
  const int64_t chunks = ceil_div(pr.K, kKChunk), size = M * N;
  thread_local std::vector<float> partial_buffer;  // the caller's; workers write via `partial`
  partial_buffer.resize(static_cast<size_t>(chunks * size));
  float* partial = partial_buffer.data();
  std::exception_ptr error;
  parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    try {
      for (int64_t c = c0; c < c1; ++c) {
        Problem sub = pr;
        const int64_t k0 = c * kKChunk;
        sub.K = std::min(kKChunk, pr.K - k0);
        sub.kc = k_block(sub.K, kt.kc);
        sub.a = pr.a + k0 * pr.a_cs;
        sub.b = pr.b + k0 * pr.b_rs;
        sub.c = partial + c * size;
        sub.ldc = N;
        sub.accumulate = false;
        sub.epilogue = nullptr;
        gemm_block(kt, sub, 0, M, 0, N);
      }
    } catch (...) {
#pragma omp critical(kerasette_gemm_error)
      if (!error) error = std::current_exception();
    }
  });
  if (error) std::rethrow_exception(error);
  for (int64_t i = 0; i < M; ++i) {
    float* row = pr.c + i * pr.ldc;
    for (int64_t j = 0; j < N; ++j) {
      float sum = pr.accumulate ? row[j] : 0.0f;
      for (int64_t c = 0; c < chunks; ++c) sum += partial[c * size + i * N + j];
      row[j] = sum;
    }
  }
  if (pr.epilogue) apply_epilogue(kt, *pr.epilogue, pr.c, pr.ldc, M, 0, N);
}

// Runs the packed loops over all of C, on a thread grid when the work pays for it.
void run_packed(const CpuKernels& kt, const Problem& pr, int64_t M, int64_t N) {
  if (k_split_applies(kt, pr, M, N)) {
    run_k_split(kt, pr, M, N);
    return;
  }
  const int64_t K = pr.K;
  // A thread pays off above ~0.4 MFLOP of work (a warm OpenMP fork/join costs ~1-2 us).
  int threads = 1;
  if (!omp_in_parallel()) {
    const double flops = 2.0 * M * N * K;
    threads = static_cast<int>(std::min<double>(omp_get_max_threads(), flops / 4.0e5));
    threads = std::max(threads, 1);
  }
  const Grid grid = choose_grid(kt, M, N, K, threads);
  const int used = grid.tm * grid.tn;
  if (used <= 1) {
    gemm_block(kt, pr, 0, M, 0, N);
    return;
  }

  // Rectangles are whole mr x nr panels, split as evenly as the panel counts allow.
  const int64_t row_panels = ceil_div(M, kt.mr), col_panels = ceil_div(N, kt.nr);
  std::exception_ptr error;  // a packing buffer that cannot be allocated must not terminate
#pragma omp parallel num_threads(used)
  {
    // OpenMP may start fewer threads than asked (OMP_DYNAMIC, OMP_THREAD_LIMIT, a nested team):
    // thread t then also takes rectangles t + team, t + 2 team, ..., so every rectangle is still
    // computed (the same bits: no C element depends on the grid or on the thread that runs it).
    const int team = omp_get_num_threads();
    for (int r = omp_get_thread_num(); r < used; r += team) {
      const int ti = r / grid.tn, tj = r % grid.tn;
      const int64_t m0 = std::min(M, row_panels * ti / grid.tm * kt.mr);
      const int64_t m1 = std::min(M, row_panels * (ti + 1) / grid.tm * kt.mr);
      const int64_t n0 = std::min(N, col_panels * tj / grid.tn * kt.nr);
      const int64_t n1 = std::min(N, col_panels * (tj + 1) / grid.tn * kt.nr);
      try {
        if (m0 < m1 && n0 < n1) gemm_block(kt, pr, m0, m1, n0, n1);
      } catch (...) {
#pragma omp critical(kerasette_gemm_error)
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
          const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate,
          const GemmEpilogue* epilogue) {
  if (M <= 0 || N <= 0) return;
  const CpuKernels& kt = cpu_kernels();
  const GemmEpilogue* ep =
      (!accumulate && epilogue && (epilogue->bias || epilogue->act != Act::Linear)) ? epilogue
                                                                                    : nullptr;
  if (K <= 0) {  // an empty sum: C = 0 (or unchanged), then the epilogue
    if (accumulate) return;
    for (int64_t i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, 0.0f);
    if (ep) apply_epilogue(kt, *ep, C, ldc, M, 0, N);
    return;
  }

  if (M <= kt.small_m_rows && !trans_b) {
    gemm_small(kt, trans_a, M, N, K, A, lda, B, ldb, C, ldc, accumulate, ep);
    return;
  }

  Problem pr;
  pr.a = A;
  pr.a_rs = trans_a ? 1 : lda;
  pr.a_cs = trans_a ? lda : 1;
  pr.b = B;
  pr.b_rs = trans_b ? 1 : ldb;
  pr.b_cs = trans_b ? ldb : 1;
  pr.c = C;
  pr.ldc = ldc;
  pr.K = K;
  pr.kc = k_block(K, kt.kc);
  pr.accumulate = accumulate;
  pr.epilogue = ep;
  run_packed(kt, pr, M, N);
}

void gemm_pack_a(int64_t M, int64_t N, int64_t K, const GemmPackA& pack_a, const float* B,
                 int64_t ldb, float* C, int64_t ldc, const GemmEpilogue* epilogue,
                 bool accumulate) {
  if (M <= 0 || N <= 0 || K <= 0) {  // nothing to gather: the plain driver handles the edges
    gemm(false, false, M, N, K, nullptr, K, B, ldb, C, ldc, accumulate, epilogue);
    return;
  }
  const CpuKernels& kt = cpu_kernels();
  Problem pr;
  pr.a = nullptr;
  pr.a_rs = pr.a_cs = 0;
  pr.b = B;
  pr.b_rs = ldb;
  pr.b_cs = 1;
  pr.c = C;
  pr.ldc = ldc;
  pr.K = K;
  pr.kc = k_block(K, kt.kc);
  pr.accumulate = accumulate;
  pr.epilogue = (!accumulate && epilogue && (epilogue->bias || epilogue->act != Act::Linear))
                    ? epilogue
                    : nullptr;
  pr.a_packer = &pack_a;
  run_packed(kt, pr, M, N);
}

}  // namespace kerasette

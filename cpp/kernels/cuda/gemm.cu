// SGEMM for the CUDA backend: shared-memory tiles, register blocking, the transpose cases read
// through strides (no transpose is materialized), and the bias + activation epilogue fused into
// the store of C.
//
// FP32 kernel (default): a block computes a BM x BN tile of C with 256 threads, each holding a
// TM x TN register tile whose rows and columns are strided by BM/TM and BN/TN, so that a warp's
// shared-memory reads of B are consecutive words and its reads of A are broadcasts, and its stores
// of C are coalesced. K advances BK at a time through two shared buffers: the next tile is fetched
// into registers while the current one is multiplied (one barrier per step). Each thread loads
// the operand tile along the operand's contiguous axis (K for A, N for B when not transposed), so
// global reads are coalesced in all four transpose cases. Three tile shapes (128, 64, 32 square)
// trade per-block efficiency for enough blocks to fill the GPU at the skinny M of deep learning.
//
// TF32 kernel (opt-in, see cuda_kernels.h): WMMA 16x16x8 fragments on 64 x 64 tiles, 4 warps.
//
// Split K: when C has only a few tiles and K is long (a convolution's kernel gradient sums over
// every pixel of the batch: 25 x 32 outputs over K = 39,200 for the first layer of the MNIST
// convnet), a grid of C tiles alone would leave all but a handful of multiprocessors idle, each
// block walking all of K. Then K is cut into fixed chunks, blockIdx.z picks the chunk, each chunk's
// product goes to its own slice of a workspace, and a second kernel adds the slices in chunk order
// and applies the epilogue.
//
// Determinism: each C element (or each chunk's partial) is one thread's chain of FMAs over its K
// range in order, and the chunks are added in a fixed order; whether and where K is cut depends on
// the shape alone (not on the GPU), so results are the same bits on every run.
#include <mma.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "core/cuda_allocator.h"
#include "kernels/cuda/device_common.cuh"

namespace kerasette::cuda {
namespace {

template <int BM, int BN, int BK, int TM, int TN, bool TA, bool TB>
__global__ void __launch_bounds__((BM / TM) * (BN / TN))
    sgemm_tiled(int64_t M, int64_t N, int64_t K, const float* __restrict__ A, int64_t lda,
                const float* __restrict__ B, int64_t ldb, float* __restrict__ C, int64_t ldc,
                bool accumulate, const float* __restrict__ bias, Act act, float alpha,
                int64_t k_chunk, int64_t c_chunk_stride) {
  constexpr int kRowThreads = BM / TM, kColThreads = BN / TN;
  constexpr int NT = kRowThreads * kColThreads;
  constexpr int A_PER = BM * BK / NT, B_PER = BK * BN / NT;
  static_assert(A_PER * NT == BM * BK && B_PER * NT == BK * BN, "tile does not divide");
  // +4 padding: the transposed-layout stores (k fastest across a warp) hit distinct banks.
  __shared__ float As[2][BK][BM + 4];
  __shared__ float Bs[2][BK][BN + 4];

  const int tid = threadIdx.x;
  const int tx = tid % kColThreads, ty = tid / kColThreads;
  const int64_t m0 = blockIdx.x * static_cast<int64_t>(BM);
  const int64_t n0 = blockIdx.y * static_cast<int64_t>(BN);
  {  // this block's chunk of K (the whole of K when gridDim.z is 1)
    const int64_t kz = blockIdx.z * k_chunk;
    K = K - kz < k_chunk ? K - kz : k_chunk;
    A += TA ? kz * lda : kz;
    B += TB ? kz : kz * ldb;
    C += blockIdx.z * c_chunk_stride;
  }

  float ra[A_PER], rb[B_PER];
  float acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = 0.0f;

  // Element e of this thread's share of a tile: (row, k) chosen so consecutive threads walk the
  // operand's contiguous axis.
  auto a_coord = [&](int e, int& mm, int& kk) {
    const int idx = tid + e * NT;
    if (TA) { mm = idx % BM; kk = idx / BM; } else { kk = idx % BK; mm = idx / BK; }
  };
  auto b_coord = [&](int e, int& kk, int& nn) {
    const int idx = tid + e * NT;
    if (TB) { kk = idx % BK; nn = idx / BK; } else { nn = idx % BN; kk = idx / BN; }
  };
  auto fetch = [&](int64_t k0) {
#pragma unroll
    for (int e = 0; e < A_PER; ++e) {
      int mm, kk;
      a_coord(e, mm, kk);
      const int64_t gm = m0 + mm, gk = k0 + kk;
      ra[e] = (gm < M && gk < K) ? (TA ? A[gk * lda + gm] : A[gm * lda + gk]) : 0.0f;
    }
#pragma unroll
    for (int e = 0; e < B_PER; ++e) {
      int kk, nn;
      b_coord(e, kk, nn);
      const int64_t gk = k0 + kk, gn = n0 + nn;
      rb[e] = (gk < K && gn < N) ? (TB ? B[gn * ldb + gk] : B[gk * ldb + gn]) : 0.0f;
    }
  };
  auto stash = [&](int buf) {
#pragma unroll
    for (int e = 0; e < A_PER; ++e) {
      int mm, kk;
      a_coord(e, mm, kk);
      As[buf][kk][mm] = ra[e];
    }
#pragma unroll
    for (int e = 0; e < B_PER; ++e) {
      int kk, nn;
      b_coord(e, kk, nn);
      Bs[buf][kk][nn] = rb[e];
    }
  };

  fetch(0);
  stash(0);
  __syncthreads();
  int buf = 0;
  for (int64_t k0 = 0; k0 < K; k0 += BK) {
    const bool more = k0 + BK < K;
    if (more) fetch(k0 + BK);
#pragma unroll
    for (int k = 0; k < BK; ++k) {
      float a[TM], b[TN];
#pragma unroll
      for (int i = 0; i < TM; ++i) a[i] = As[buf][k][ty + i * kRowThreads];
#pragma unroll
      for (int j = 0; j < TN; ++j) b[j] = Bs[buf][k][tx + j * kColThreads];
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    if (more) stash(buf ^ 1);
    __syncthreads();
    buf ^= 1;
  }

#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int64_t gm = m0 + ty + i * kRowThreads;
    if (gm >= M) continue;
#pragma unroll
    for (int j = 0; j < TN; ++j) {
      const int64_t gn = n0 + tx + j * kColThreads;
      if (gn >= N) continue;
      float v = acc[i][j];
      float* c = C + gm * ldc + gn;
      if (accumulate) {
        v += *c;
      } else {
        if (bias) v += bias[gn];
        v = act_fwd(act, alpha, v);
      }
      *c = v;
    }
  }
}

// TF32 tensor cores: 64 x 64 tile per block of 4 warps (2 x 2, each 32 x 32 = 2 x 2 fragments).
__global__ void __launch_bounds__(128)
    sgemm_tf32_wmma(int64_t M, int64_t N, int64_t K, const float* __restrict__ A, int64_t lda,
                    const float* __restrict__ B, int64_t ldb, float* __restrict__ C, int64_t ldc,
                    bool accumulate, const float* __restrict__ bias, Act act, float alpha,
                    bool ta, bool tb, int64_t k_chunk, int64_t c_chunk_stride) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  using namespace nvcuda;
  constexpr int BM = 64, BN = 64, BK = 16, LDA = BK + 4, LDB = BN + 4, LDC = BN + 4;
  __shared__ __align__(128) float As[BM * LDA];
  __shared__ __align__(128) float Bs[BK * LDB];
  __shared__ __align__(128) float Cs[BM * LDC];
  const int tid = threadIdx.x, warp = tid / 32;
  const int wm = (warp / 2) * 32, wn = (warp % 2) * 32;
  const int64_t m0 = blockIdx.x * static_cast<int64_t>(BM);
  const int64_t n0 = blockIdx.y * static_cast<int64_t>(BN);
  {  // this block's chunk of K, as in sgemm_tiled
    const int64_t kz = blockIdx.z * k_chunk;
    K = K - kz < k_chunk ? K - kz : k_chunk;
    A += ta ? kz * lda : kz;
    B += tb ? kz : kz * ldb;
    C += blockIdx.z * c_chunk_stride;
  }
  wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[2][2];
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.0f);
  for (int64_t k0 = 0; k0 < K; k0 += BK) {
    for (int idx = tid; idx < BM * BK; idx += 128) {
      const int mm = ta ? idx % BM : idx / BK, kk = ta ? idx / BM : idx % BK;
      const int64_t gm = m0 + mm, gk = k0 + kk;
      const float v = (gm < M && gk < K) ? (ta ? A[gk * lda + gm] : A[gm * lda + gk]) : 0.0f;
      As[mm * LDA + kk] = wmma::__float_to_tf32(v);
    }
    for (int idx = tid; idx < BK * BN; idx += 128) {
      const int nn = tb ? idx / BK : idx % BN, kk = tb ? idx % BK : idx / BN;
      const int64_t gk = k0 + kk, gn = n0 + nn;
      const float v = (gk < K && gn < N) ? (tb ? B[gn * ldb + gk] : B[gk * ldb + gn]) : 0.0f;
      Bs[kk * LDB + nn] = wmma::__float_to_tf32(v);
    }
    __syncthreads();
    for (int kk = 0; kk < BK; kk += 8) {
      wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fa[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fb[2];
      for (int i = 0; i < 2; ++i) wmma::load_matrix_sync(fa[i], As + (wm + i * 16) * LDA + kk, LDA);
      for (int j = 0; j < 2; ++j) wmma::load_matrix_sync(fb[j], Bs + kk * LDB + wn + j * 16, LDB);
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
    }
    __syncthreads();
  }
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      wmma::store_matrix_sync(Cs + (wm + i * 16) * LDC + wn + j * 16, acc[i][j], LDC,
                              wmma::mem_row_major);
  __syncthreads();
  for (int idx = tid; idx < BM * BN; idx += 128) {
    const int mm = idx / BN, nn = idx % BN;
    const int64_t gm = m0 + mm, gn = n0 + nn;
    if (gm >= M || gn >= N) continue;
    float v = Cs[mm * LDC + nn];
    float* c = C + gm * ldc + gn;
    if (accumulate) {
      v += *c;
    } else {
      if (bias) v += bias[gn];
      v = act_fwd(act, alpha, v);
    }
    *c = v;
  }
#endif
}

// C = epilogue(sum over s of part[s] in order), part[s] being M x N with row stride N.
__global__ void splitk_reduce(const float* __restrict__ part, int64_t chunks, int64_t M, int64_t N,
                              float* __restrict__ C, int64_t ldc, bool accumulate,
                              const float* __restrict__ bias, Act act, float alpha) {
  const int64_t slice = M * N;
  KS_GRID_STRIDE(i, slice) {
    float v = 0.0f;
    for (int64_t s = 0; s < chunks; ++s) v += part[s * slice + i];
    const int64_t m = i / N, n = i - m * N;
    float* c = C + m * ldc + n;
    if (accumulate) {
      v += *c;
    } else {
      if (bias) v += bias[n];
      v = act_fwd(act, alpha, v);
    }
    *c = v;
  }
}

// How K is cut, from the shape alone: only when C has at most 32 tiles of 64 x 64 and K is at least
// four chunks long. Chunks are 512 long (a multiple of every BK), longer when that would make more
// than 128 of them, which also bounds the workspace (128 x 32 x 64 x 64 floats at most).
struct SplitK {
  int64_t chunk = 0, chunks = 1;
};
constexpr int64_t kSplitChunk = 512, kMaxChunks = 128, kSplitMaxTiles = 32;

SplitK plan_split_k(int64_t M, int64_t N, int64_t K) {
  SplitK p;
  p.chunk = K;
  const int64_t tiles = ((M + 63) / 64) * ((N + 63) / 64);
  if (tiles > kSplitMaxTiles || K < 4 * kSplitChunk) return p;
  int64_t chunk = std::max(kSplitChunk, (K + kMaxChunks - 1) / kMaxChunks);
  chunk = (chunk + kSplitChunk - 1) / kSplitChunk * kSplitChunk;
  p.chunk = chunk;
  p.chunks = (K + chunk - 1) / chunk;
  return p;
}

int g_tf32 = -1;  // -1: not read from the environment yet

int multiprocessors() {
  static int sms = [] {
    int dev = 0, n = 0;
    if (cudaGetDevice(&dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess || n <= 0)
      n = 80;
    return n;
  }();
  return sms;
}

template <int BM, int BN, int BK, int TM, int TN>
void launch_tiled(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                  const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate,
                  const float* bias, Act act, float alpha, const SplitK& split,
                  int64_t c_chunk_stride) {
  const dim3 grid(static_cast<unsigned>((M + BM - 1) / BM), static_cast<unsigned>((N + BN - 1) / BN),
                  static_cast<unsigned>(split.chunks));
  const dim3 block((BM / TM) * (BN / TN));
#define KS_LAUNCH(TA_, TB_)                                                                     \
  sgemm_tiled<BM, BN, BK, TM, TN, TA_, TB_><<<grid, block>>>(M, N, K, A, lda, B, ldb, C, ldc,   \
                                                            accumulate, bias, act, alpha,      \
                                                            split.chunk, c_chunk_stride)
  if (!ta && !tb) KS_LAUNCH(false, false);
  else if (ta && !tb) KS_LAUNCH(true, false);
  else if (!ta && tb) KS_LAUNCH(false, true);
  else KS_LAUNCH(true, true);
#undef KS_LAUNCH
}

}  // namespace

void set_gemm_tf32(bool on) { g_tf32 = on ? 1 : 0; }

bool gemm_tf32() {
  if (g_tf32 < 0) {
    const char* e = std::getenv("KERASETTE_CUDA_TF32");
    g_tf32 = (e && std::strcmp(e, "0") != 0 && *e) ? 1 : 0;
  }
  return g_tf32 == 1;
}

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
          const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate, const float* bias,
          Act act, float alpha) {
  if (M <= 0 || N <= 0) return;
  const SplitK split = plan_split_k(M, N, K);
  // Split: the blocks write plain products into the workspace; splitk_reduce does the rest.
  std::shared_ptr<void> workspace;
  float* out = C;
  int64_t ld_out = ldc, out_stride = 0;
  bool out_accumulate = accumulate;
  const float* out_bias = bias;
  Act out_act = act;
  if (split.chunks > 1) {
    workspace = device_alloc(static_cast<size_t>(split.chunks * M * N) * sizeof(float));
    out = static_cast<float*>(workspace.get());
    ld_out = N;
    out_stride = M * N;
    out_accumulate = false;
    out_bias = nullptr;
    out_act = Act::Linear;
  }
  if (gemm_tf32()) {
    const dim3 grid(static_cast<unsigned>((M + 63) / 64), static_cast<unsigned>((N + 63) / 64),
                    static_cast<unsigned>(split.chunks));
    sgemm_tf32_wmma<<<grid, 128>>>(M, N, K, A, lda, B, ldb, out, ld_out, out_accumulate, out_bias,
                                   out_act, alpha, trans_a, trans_b, split.chunk, out_stride);
    check_launch("gemm (tf32)");
  } else {
    // The largest tile that still gives every multiprocessor a block; else the smallest tile.
    const int64_t sms = multiprocessors();
    auto blocks = [&](int64_t t) { return ((M + t - 1) / t) * ((N + t - 1) / t) * split.chunks; };
    if (blocks(128) >= sms)
      launch_tiled<128, 128, 8, 8, 8>(trans_a, trans_b, M, N, K, A, lda, B, ldb, out, ld_out,
                                      out_accumulate, out_bias, out_act, alpha, split, out_stride);
    else if (blocks(64) >= sms)
      launch_tiled<64, 64, 16, 4, 4>(trans_a, trans_b, M, N, K, A, lda, B, ldb, out, ld_out,
                                     out_accumulate, out_bias, out_act, alpha, split, out_stride);
    else
      launch_tiled<32, 32, 16, 2, 2>(trans_a, trans_b, M, N, K, A, lda, B, ldb, out, ld_out,
                                     out_accumulate, out_bias, out_act, alpha, split, out_stride);
    check_launch("gemm");
  }
  if (split.chunks > 1) {
    splitk_reduce<<<grid_for(M * N), kThreads>>>(out, split.chunks, M, N, C, ldc, accumulate, bias,
                                                 act, alpha);
    check_launch("gemm (split-K sum)");
  }
  // The workspace goes back to the allocator's cache here; the one stream orders its reuse after
  // the kernels above.
}

}  // namespace kerasette::cuda

// The contract of the per-ISA CPU kernels.
//
// Every .cpp file in this folder is compiled once per instruction set (generic, avx2, avx512) with
// that set's flags, into namespace kerasette::cpu::KS_ISA. Each build fills one CpuKernels table
// (table.cpp); ops/dispatch.cpp picks the table once, from CPUID or KERASETTE_ISA.
//
// Rules for kernels: raw pointers and sizes in, no allocation, no threads, no shape checks (the op
// above checks). To stay safe when the same code is built for several ISAs, files here include only
// this header, simd.h, transpose8.h, <cmath>, <cstdint>, <cstddef>, <cstring> and <immintrin.h>,
// and define everything inside the ISA namespace: no std templates whose out-of-line copies the
// linker could merge.
#pragma once
#include <cstddef>
#include <cstdint>

namespace kerasette {

// Activation functions; the numeric values are stable (used across the bindings).
enum class Act : int {
  Linear = 0,
  Relu,
  Sigmoid,
  Tanh,
  Softmax,  // handled by softmax_rows, never by act_forward
  Elu,      // alpha
  Selu,
  LeakyRelu,  // alpha = negative slope
  Softplus,
  Softsign,
  Swish,  // x * sigmoid(x), a.k.a. silu
  Gelu,   // exact (erf) form; alpha != 0 selects the tanh approximation
  HardSigmoid,  // Keras 3: clip(x / 6 + 0.5, 0, 1)
  Exponential,
  Relu6,
  Mish,
  HardSwish,  // x * hard_sigmoid(x)
  Count
};

constexpr int64_t kConvDirectMaxOut = 256;

struct CpuKernels {
  const char* name;

  // ---- GEMM building blocks (BLIS style): C[m x n] += A[m x k] * B[k x n] ----
  int mr, nr;          // register tile of the micro-kernel
  int64_t mc, kc, nc;  // cache blocking (see ops/gemm.cpp for which block lives where)
  // Packs rows [0, m) x cols [0, k) of A (element (i, p) at A[i*rs + p*cs]) into ceil(m/mr)
  // panels of mr x k, column-major within a panel, zero-padded to mr rows.
  void (*pack_a)(int64_t m, int64_t k, const float* a, int64_t rs, int64_t cs, float* packed);
  // Packs B (element (p, j) at B[p*rs + j*cs]) into ceil(n/nr) panels of k x nr, row-major within
  // a panel, zero-padded to nr columns.
  void (*pack_b)(int64_t k, int64_t n, const float* b, int64_t rs, int64_t cs, float* packed);
  // One A panel like pack_a (m <= mr rows, zero-padded to mr) whose row i is contiguous at
  // rows[i] (an implicit-GEMM gather; pack_gather.cpp).
  void (*pack_a_rows)(int64_t m, int64_t mr, int64_t k, const float* const* rows, float* packed);
  // Part of an A panel whose columns are contiguous instead: packed[p * mr + i] = cols[p][i] for
  // p < k, i < m (m <= mr; a null cols[p] gives zeros). Rows [m, mr) are not written.
  void (*pack_a_columns)(int64_t m, int64_t mr, int64_t k, const float* const* cols,
                         float* packed);
  // C[m x n] (m <= mr, n <= nr, row stride ldc) = (accumulate ? C : 0) + Apanel * Bpanel over k.
  // C is not read when accumulate is false.
  void (*gemm_ukernel)(int64_t k, const float* a_panel, const float* b_panel, float* c, int64_t ldc,
                       int64_t m, int64_t n, bool accumulate);
  // The same with A read in place (element (i, p) at a[i * lda + p]), for an A that would be
  // used by a single B panel: packing it would cost as much as the product. Same FMA order.
  void (*gemm_ukernel_rows)(int64_t k, const float* a, int64_t lda, const float* b_panel,
                            float* c, int64_t ldc, int64_t m, int64_t n, bool accumulate);
  // A full-width tile (n = nr) with B read in place, its rows ldb apart (row-major B and few rows
  // of A: packing B would cost about what the tile's few uses of it save). Same FMA order.
  void (*gemm_ukernel_b_rows)(int64_t k, const float* a_panel, const float* b, int64_t ldb,
                              float* c, int64_t ldc, int64_t m, bool accumulate);

  // Few-row GEMM reading row-major B in place (no packing): C[m x n] (+)= A * B for
  // m <= small_m_rows; columns are best cut into blocks of small_m_block (any n is accepted).
  // With k_index set, only the k positions it lists (ascending) are summed, the others being
  // columns of A that are all zero; k_index null means every p in [0, k).
  int small_m_rows, small_m_block;
  void (*gemm_small_m)(int64_t m, int64_t n, int64_t k, const int32_t* k_index, const float* a,
                       int64_t a_rs, int64_t a_cs, const float* b, int64_t ldb, float* c,
                       int64_t ldc, bool accumulate);
  // Writes to index the positions p < k (ascending) where some row i < m of A has
  // a[i * a_rs + p * a_cs] != 0 (NaN counts as nonzero); returns how many. index needs room for
  // k + 16 entries (whole vectors are stored).
  int64_t (*nonzero_columns)(int64_t m, int64_t k, const float* a, int64_t a_rs, int64_t a_cs,
                             int32_t* index);

  // ---- pooling (NHWC) ----
  // One output row of a max or average pool over rows [y0, y1) of image x (W x C): for ox < OW,
  // the window's columns are [max(0, ox*sw - pad_left), min(W, ox*sw - pad_left + kw)).
  // Max: y = the window's first cell, then each later cell in row-major order replaces it where
  // strictly greater (the first maximum wins; a NaN never does), arg (if not null) = the
  // winner's offset (iy * W + ix) * C + c. Average: the in-bounds cells summed in the same order,
  // times 1 / their count.
  void (*pool_row)(bool is_max, const float* x, int64_t W, int64_t C, int64_t y0, int64_t y1,
                   int64_t OW, int64_t sw, int64_t kw, int64_t pad_left, float* y, int32_t* arg);

  // ---- Winograd F(m x m, r x r) convolution on 6 x 6 tiles, r = 3 (m = 4) or 5 (m = 2) ----
  // (ops/winograd.cpp). u[xi, c, o] (xi < 36) = (G k G^T)[xi] of the kernel (r, r, C, O).
  void (*winograd_kernel)(int64_t r, const float* kernel, int64_t C, int64_t O, float* u);
  // v[xi * xi_stride + c] = (B^T d B)[xi] of the 6 x 6 patch of image x (H x W x C) whose corner
  // is (iy0, ix0); cells outside the image are 0.
  void (*winograd_input)(const float* x, int64_t H, int64_t W, int64_t C, int64_t iy0, int64_t ix0,
                         float* v, int64_t xi_stride);
  // The m x m outputs at (oy0, ox0) of image y (OH x OW x O) from t[xi * xi_stride + o]:
  // A^T t A + bias (bias may be null); outputs past OH or OW are not written.
  void (*winograd_output)(int64_t r, const float* t, int64_t xi_stride, int64_t O,
                          const float* bias, float* y, int64_t OH, int64_t OW, int64_t oy0,
                          int64_t ox0);
  // Weight gradient, F(r x r, m x m) on the same tiles: (G' e G'^T)[xi] of the m x m tile of dy
  // (OH x OW x O) at (oy0, ox0), cells past OH or OW being 0, channel o written to
  // u[xi * xi_stride + (o / nr) * panel_stride + o % nr] (the GEMM's packed-B layout when u
  // points at the tile's row of the panels; nr a multiple of the vector width); and
  // dkernel[a, b, c, o] (+)= (A'^T s A')[a][b] from s[xi, c, o] (xi < 36), the tile sums.
  void (*winograd_dy)(int64_t r, const float* dy, int64_t OH, int64_t OW, int64_t O, int64_t oy0,
                      int64_t ox0, float* u, int64_t xi_stride, int64_t nr, int64_t panel_stride);
  void (*winograd_weight_output)(int64_t r, const float* s, int64_t C, int64_t O,
                                 float* dkernel, bool accumulate);

  // ---- direct convolution (NHWC, groups == 1, cout <= kConvDirectMaxOut) ----
  // y[ox, o] for ox < OW of output row oy of one image: bias + sum over taps (a, b) and input
  // channels c, in that order, of x[iy, ix, c] * kernel[a, b, c, o]; padded taps are skipped.
  void (*conv2d_direct_row)(const float* x, int64_t H, int64_t W, int64_t C, const float* kernel,
                            int64_t KH, int64_t KW, int64_t O, int64_t sh, int64_t sw, int64_t dh,
                            int64_t dw, int64_t pad_top, int64_t pad_left, const float* bias,
                            int64_t oy, int64_t OW, float* y);

  // ---- elementwise ----
  void (*act_forward)(Act act, float alpha, const float* x, float* y, int64_t n);
  // dx = dy * f'(x); kernels may use x (pre-activation) or y = f(x), both are given.
  void (*act_backward)(Act act, float alpha, const float* x, const float* y, const float* dy,
                       float* dx, int64_t n);
  // y[r, :] = softmax(x[r, :]) (max-subtracted).
  void (*softmax_rows)(const float* x, float* y, int64_t rows, int64_t cols);
  // dx[r, :] = y * (dy - sum(dy * y)) over each row.
  void (*softmax_rows_backward)(const float* y, const float* dy, float* dx, int64_t rows,
                                int64_t cols);
  // y[r, c] += bias[c]
  void (*add_bias_rows)(float* y, const float* bias, int64_t rows, int64_t cols);
  // out[c] (+)= sum over rows of x[r, c]; rows summed in order.
  void (*sum_rows)(const float* x, float* out, int64_t rows, int64_t cols, bool accumulate);
  // y = a * x + y
  void (*axpy)(int64_t n, float a, const float* x, float* y);
  // sum of x[i] (pairwise in fixed blocks, so deterministic)
  double (*sum)(const float* x, int64_t n);
  // sum of x[i]^2
  double (*sum_squares)(const float* x, int64_t n);

  // ---- optimizer updates on one variable, in place (Keras 3 formulas; see nn/optimizers.cpp) ----
  // SGD: momentum == 0 -> w -= lr * g; else m = momentum*m - lr*g; w += nesterov ? momentum*m - lr*g : m
  void (*sgd_update)(float* w, const float* g, float* m, int64_t n, float lr, float momentum,
                     bool nesterov);
  // Adam/AdamW core: m += (g - m)(1-b1); v += (g^2 - v)(1-b2); [vhat = max(vhat, v)];
  // w -= alpha * m / (sqrt(v or vhat) + eps)
  void (*adam_update)(float* w, const float* g, float* m, float* v, float* vhat, int64_t n,
                      float alpha, float b1, float b2, float eps);
  // RMSprop: v = rho v + (1-rho) g^2; [mg = rho mg + (1-rho) g; denom = v - mg^2 + eps] else
  // denom = v + eps; inc = lr g / sqrt(denom); momentum>0: mom = momentum*mom + inc; w -= mom
  // else w -= inc
  void (*rmsprop_update)(float* w, const float* g, float* v, float* mg, float* mom, int64_t n,
                         float lr, float rho, float momentum, float eps);
  // Adagrad: acc += g^2; w -= lr g / sqrt(acc + eps)
  void (*adagrad_update)(float* w, const float* g, float* acc, int64_t n, float lr, float eps);
  // Adadelta: ag = rho ag + (1-rho) g^2; d = -sqrt(ad + eps) g / sqrt(ag + eps);
  // ad = rho ad + (1-rho) d^2; w += lr d
  void (*adadelta_update)(float* w, const float* g, float* ag, float* ad, int64_t n, float lr,
                          float rho, float eps);
  // Nadam: m += (g-m)(1-b1); v += (g^2-v)(1-b2);
  // mhat = c_m * m + c_g * g; vhat = v * c_v; w -= lr mhat / (sqrt(vhat) + eps)
  void (*nadam_update)(float* w, const float* g, float* m, float* v, int64_t n, float lr, float b1,
                       float b2, float c_m, float c_g, float c_v, float eps);
  // Adamax: m += (g-m)(1-b1); u = max(b2 u, |g|); w -= lr m / (c1 (u + eps)), c1 = 1 - b1^t
  void (*adamax_update)(float* w, const float* g, float* m, float* u, int64_t n, float lr, float b1,
                        float b2, float c1, float eps);
  // Lion: w -= lr sign(b1 m + (1-b1) g); m = b2 m + (1-b2) g
  void (*lion_update)(float* w, const float* g, float* m, int64_t n, float lr, float b1, float b2);
  // Ftrl: gs = g + shrink2 w; na = acc + g^2; lin += gs - ((na^-p - acc^-p) / lr) w;
  // w = (clip(lin, -l1, l1) - lin) / (na^-p / lr + two_l2); acc = na  (p = lr_power)
  void (*ftrl_update)(float* w, const float* g, float* acc, float* lin, int64_t n, float lr,
                      float lr_power, float l1, float two_l2, float shrink2);
};

namespace cpu {
#define KS_DECLARE_TABLE(isa) \
  namespace isa {             \
  const CpuKernels& table();  \
  }
KS_DECLARE_TABLE(generic)
KS_DECLARE_TABLE(avx2)
KS_DECLARE_TABLE(avx512)
#undef KS_DECLARE_TABLE
}  // namespace cpu

}  // namespace kerasette

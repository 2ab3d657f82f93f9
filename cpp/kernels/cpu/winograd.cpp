// Winograd's minimal filtering on 6 x 6 tiles, F(4 x 4, 3 x 3) and F(2 x 2, 5 x 5), with the
// interpolation points 0, 1, -1, 2, -2 and infinity (both sizes share the input transform B^T).
// Y = A^T [(G k G^T) . (B^T d B)] A for each channel pair, summed over input channels by the GEMMs
// of ops/winograd.cpp; here are the three transforms, vectorized across channels (NHWC keeps a
// pixel's channels adjacent), the channel tail on masked vectors. The matrices were derived from
// the points (Toom-Cook, transposed for correlation) and checked exactly in rational arithmetic;
// the fractions sit in G so B^T and A^T are small integers.
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/simd.h"

namespace kerasette::cpu::KS_ISA {
namespace {

constexpr float kBT[6][6] = {{4, 0, -5, 0, 1, 0},  {0, 4, 4, -1, -1, 0}, {0, -4, 4, 1, -1, 0},
                             {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
constexpr float kG3[6][3] = {{1.0f / 4, 0, 0},
                             {1.0f / 6, 1.0f / 6, 1.0f / 6},
                             {1.0f / 6, -1.0f / 6, 1.0f / 6},
                             {1.0f / 24, 1.0f / 12, 1.0f / 6},
                             {1.0f / 24, -1.0f / 12, 1.0f / 6},
                             {0, 0, 1}};
constexpr float kAT4[4][6] = {
    {1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};
constexpr float kG5[6][5] = {{1.0f / 4, 0, 0, 0, 0},
                             {1.0f / 6, 1.0f / 6, 1.0f / 6, 1.0f / 6, 1.0f / 6},
                             {1.0f / 6, -1.0f / 6, 1.0f / 6, -1.0f / 6, 1.0f / 6},
                             {1.0f / 24, 1.0f / 12, 1.0f / 6, 1.0f / 3, 2.0f / 3},
                             {1.0f / 24, -1.0f / 12, 1.0f / 6, -1.0f / 3, 2.0f / 3},
                             {0, 0, 0, 0, 1}};
constexpr float kAT2[2][6] = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 1}};
// Weight gradient: the kernel is the output (r taps) and a tile of dy the filter (m taps), on
// the same points, so B^T is shared again.
constexpr float kGw4[6][4] = {{1.0f / 4, 0, 0, 0},
                              {1.0f / 6, 1.0f / 6, 1.0f / 6, 1.0f / 6},
                              {1.0f / 6, -1.0f / 6, 1.0f / 6, -1.0f / 6},
                              {1.0f / 24, 1.0f / 12, 1.0f / 6, 1.0f / 3},
                              {1.0f / 24, -1.0f / 12, 1.0f / 6, -1.0f / 3},
                              {0, 0, 0, 1}};
constexpr float kATw3[3][6] = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 1}};
constexpr float kGw2[6][2] = {{1.0f / 4, 0},          {1.0f / 6, 1.0f / 6},
                              {1.0f / 6, -1.0f / 6},  {1.0f / 24, 1.0f / 12},
                              {1.0f / 24, -1.0f / 12}, {0, 1}};
constexpr float kATw5[5][6] = {{1, 1, 1, 1, 1, 0},
                               {0, 1, -1, 2, -2, 0},
                               {0, 1, 1, 4, 4, 0},
                               {0, 1, -1, 8, -8, 0},
                               {0, 1, 1, 16, 16, 1}};

// out[i * os] = sum_j mat[i][j] * in[j * is]. Inlined and unrolled, so the matrix entries are
// compile-time constants: zero terms vanish and +-1 terms become adds.
template <int Rows, int Cols>
KS_INLINE void apply(const float (&mat)[Rows][Cols], const vf* in, int is, vf* out, int os) {
#pragma GCC unroll 6
  for (int i = 0; i < Rows; ++i) {
    vf acc = vf{};
    bool started = false;
#pragma GCC unroll 6
    for (int j = 0; j < Cols; ++j) {
      const float c = mat[i][j];
      if (c == 0.0f) continue;
      const vf t = in[j * is];
      if (!started) {
        acc = c == 1.0f ? t : (c == -1.0f ? -t : t * c);
        started = true;
      } else {
        acc = c == 1.0f ? acc + t : (c == -1.0f ? acc - t : fmadd(splat(c), t, acc));
      }
    }
    out[i * os] = acc;
  }
}

template <int R>
void kernel_transform(const float (&G)[6][R], const float* kernel, int64_t C, int64_t O, float* u) {
  for (int64_t c = 0; c < C; ++c)
    for (int64_t o = 0; o < O; o += kW) {
      const int64_t r = O - o < kW ? O - o : kW;
      vf k[R * R], t[6 * R], w[36];
#pragma GCC unroll 25
      for (int i = 0; i < R * R; ++i) k[i] = load_n(kernel + (i * C + c) * O + o, r);
#pragma GCC unroll 5
      for (int b = 0; b < R; ++b) apply(G, k + b, R, t + b, R);  // t[i][b] = G[i][a] k[a][b]
#pragma GCC unroll 6
      for (int i = 0; i < 6; ++i) apply(G, t + i * R, 1, w + i * 6, 1);  // w[i][j] = t[i][b] G[j][b]
#pragma GCC unroll 36
      for (int xi = 0; xi < 36; ++xi) store_n(u + (xi * C + c) * O + o, w[xi], r);
    }
}

void winograd_kernel(int64_t r, const float* kernel, int64_t C, int64_t O, float* u) {
  if (r == 3)
    kernel_transform<3>(kG3, kernel, C, O, u);
  else
    kernel_transform<5>(kG5, kernel, C, O, u);
}

// The 2-D transforms are done as two passes of 1-D ones (rows, then columns) with six vectors
// live at a time, so the compiler keeps them in registers rather than spilling 36-vector arrays.
void winograd_input(const float* x, int64_t H, int64_t W, int64_t C, int64_t iy0, int64_t ix0,
                    float* v, int64_t xi_stride) {
  const bool inside = iy0 >= 0 && ix0 >= 0 && iy0 + 6 <= H && ix0 + 6 <= W;
  for (int64_t c = 0; c < C; c += kW) {
    const int64_t r = C - c < kW ? C - c : kW;
    vf rows[36];  // rows[i][j] = (d B)[i][j]
#pragma GCC unroll 6
    for (int i = 0; i < 6; ++i) {
      const int64_t iy = iy0 + i;
      vf d[6];
#pragma GCC unroll 6
      for (int j = 0; j < 6; ++j) {
        const int64_t ix = ix0 + j;
        d[j] = inside || (iy >= 0 && iy < H && ix >= 0 && ix < W)
                   ? load_n(x + (iy * W + ix) * C + c, r)
                   : vf{};
      }
      apply(kBT, d, 1, rows + i * 6, 1);
    }
#pragma GCC unroll 6
    for (int j = 0; j < 6; ++j) {
      vf out[6];
      apply(kBT, rows + j, 6, out, 1);  // out[i] = (B^T d B)[i][j]
#pragma GCC unroll 6
      for (int i = 0; i < 6; ++i) store_n(v + (i * 6 + j) * xi_stride + c, out[i], r);
    }
  }
}

template <int M>
void output_transform(const float (&AT)[M][6], const float* t, int64_t xi_stride, int64_t O,
                      const float* bias, float* y, int64_t OH, int64_t OW, int64_t oy0,
                      int64_t ox0) {
  for (int64_t o = 0; o < O; o += kW) {
    const int64_t r = O - o < kW ? O - o : kW;
    vf s[M * 6];  // s[a][j] = (A^T q)[a][j]
#pragma GCC unroll 6
    for (int j = 0; j < 6; ++j) {
      vf q[6];
#pragma GCC unroll 6
      for (int i = 0; i < 6; ++i) q[i] = load_n(t + (i * 6 + j) * xi_stride + o, r);
      apply(AT, q, 1, s + j, 6);
    }
    const vf b = bias ? load_n(bias + o, r) : vf{};
#pragma GCC unroll 4
    for (int a = 0; a < M; ++a) {
      if (oy0 + a >= OH) break;
      vf out[M];
      apply(AT, s + a * 6, 1, out, 1);  // out[c] = (A^T q A)[a][c]
      for (int c = 0; c < M && ox0 + c < OW; ++c)
        store_n(y + ((oy0 + a) * OW + ox0 + c) * O + o, out[c] + b, r);
    }
  }
}

void winograd_output(int64_t r, const float* t, int64_t xi_stride, int64_t O, const float* bias,
                     float* y, int64_t OH, int64_t OW, int64_t oy0, int64_t ox0) {
  if (r == 3)
    output_transform<4>(kAT4, t, xi_stride, O, bias, y, OH, OW, oy0, ox0);
  else
    output_transform<2>(kAT2, t, xi_stride, O, bias, y, OH, OW, oy0, ox0);
}

template <int M>
void dy_transform(const float (&G)[6][M], const float* dy, int64_t OH, int64_t OW, int64_t O,
                  int64_t oy0, int64_t ox0, float* u_tile, int64_t xi_stride, int64_t nr,
                  int64_t panel_stride) {
  for (int64_t o = 0; o < O; o += kW) {
    const int64_t r = O - o < kW ? O - o : kW;
    float* u = u_tile + o / nr * panel_stride + o % nr;
    vf rows[M * 6];  // rows[a][j] = (e G'^T)[a][j]
#pragma GCC unroll 4
    for (int a = 0; a < M; ++a) {
      vf e[M];
#pragma GCC unroll 4
      for (int b = 0; b < M; ++b)
        e[b] = oy0 + a < OH && ox0 + b < OW ? load_n(dy + ((oy0 + a) * OW + ox0 + b) * O + o, r)
                                           : vf{};
      apply(G, e, 1, rows + a * 6, 1);
    }
#pragma GCC unroll 6
    for (int j = 0; j < 6; ++j) {
      vf out[6];
      apply(G, rows + j, 6, out, 1);  // out[i] = (G' e G'^T)[i][j]
#pragma GCC unroll 6
      for (int i = 0; i < 6; ++i) store_n(u + (i * 6 + j) * xi_stride, out[i], r);
    }
  }
}

void winograd_dy(int64_t r, const float* dy, int64_t OH, int64_t OW, int64_t O, int64_t oy0,
                 int64_t ox0, float* u, int64_t xi_stride, int64_t nr, int64_t panel_stride) {
  if (r == 3)
    dy_transform<4>(kGw4, dy, OH, OW, O, oy0, ox0, u, xi_stride, nr, panel_stride);
  else
    dy_transform<2>(kGw2, dy, OH, OW, O, oy0, ox0, u, xi_stride, nr, panel_stride);
}

template <int R>
void weight_output(const float (&AT)[R][6], const float* s, int64_t C, int64_t O, float* dkernel,
                   bool accumulate) {
  for (int64_t c = 0; c < C; ++c)
    for (int64_t o = 0; o < O; o += kW) {
      const int64_t r = O - o < kW ? O - o : kW;
      vf cols[R * 6];  // cols[a][j] = (A'^T s)[a][j]
#pragma GCC unroll 6
      for (int j = 0; j < 6; ++j) {
        vf q[6];
#pragma GCC unroll 6
        for (int i = 0; i < 6; ++i) q[i] = load_n(s + ((i * 6 + j) * C + c) * O + o, r);
        apply(AT, q, 1, cols + j, 6);
      }
#pragma GCC unroll 5
      for (int a = 0; a < R; ++a) {
        vf out[R];
        apply(AT, cols + a * 6, 1, out, 1);
#pragma GCC unroll 5
        for (int b = 0; b < R; ++b) {
          float* dst = dkernel + ((a * R + b) * C + c) * O + o;
          store_n(dst, accumulate ? load_n(dst, r) + out[b] : out[b], r);
        }
      }
    }
}

void winograd_weight_output(int64_t r, const float* s, int64_t C, int64_t O, float* dkernel,
                            bool accumulate) {
  if (r == 3)
    weight_output<3>(kATw3, s, C, O, dkernel, accumulate);
  else
    weight_output<5>(kATw5, s, C, O, dkernel, accumulate);
}

}  // namespace

void fill_winograd(CpuKernels& t) {
  t.winograd_dy = winograd_dy;
  t.winograd_weight_output = winograd_weight_output;
  t.winograd_kernel = winograd_kernel;
  t.winograd_input = winograd_input;
  t.winograd_output = winograd_output;
}

}  // namespace kerasette::cpu::KS_ISA

#include "ops/conv2d.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "ops/dispatch.h"
#include "ops/gemm.h"
#include "ops/winograd.h"

namespace kerasette {

Padding parse_padding(const std::string& name) {
  if (name == "valid") return Padding::Valid;
  if (name == "same") return Padding::Same;
  if (name == "causal") return Padding::Causal;
  fail("Unknown padding '", name, "': expected 'valid', 'same' or 'causal'");
}

const char* padding_name(Padding p) {
  return p == Padding::Same ? "same" : p == Padding::Causal ? "causal" : "valid";
}

WindowAxis window_axis(int64_t in, int64_t k, int64_t stride, int64_t dilation, Padding padding) {
  WindowAxis a;
  a.in = in;
  a.k = k;
  a.stride = stride;
  a.dilation = dilation;
  const int64_t span = (k - 1) * dilation + 1;
  if (padding == Padding::Same) {
    a.out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>((a.out - 1) * stride + span - in, 0);
    a.pad_before = total / 2;  // TensorFlow: the odd row/col goes after
    a.pad_after = total - a.pad_before;
  } else if (padding == Padding::Causal) {
    a.pad_before = span - 1;
    a.out = in >= 1 ? (in - 1) / stride + 1 : 0;
  } else {
    a.out = in >= span ? (in - span) / stride + 1 : in - span + 1;  // <= 0 when too small
  }
  return a;
}

int64_t conv2d_slice_images(const Conv2dGeometry& g) {
  const int64_t per_image = std::max<int64_t>(1, g.out_pixels() * g.col_width());
  return std::max<int64_t>(1, std::min<int64_t>(g.batch, kIm2colMaxFloats / per_image));
}

void im2col(const Conv2dGeometry& g, const float* x, float* col) {
  const int64_t H = g.h.in, W = g.w.in, C = g.cin, G = g.groups, Cg = C / G;
  const int64_t OH = g.h.out, OW = g.w.out, KH = g.h.k, KW = g.w.k;
  const int64_t Kg = g.k_group(), CW = g.col_width();
  const int64_t rows = g.batch * OH;
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, OW * CW));
  parallel_for(rows, chunk, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / OH, oy = r % OH;
      const float* xn = x + n * H * W * C;
      float* crow = col + r * OW * CW;
      for (int64_t ox = 0; ox < OW; ++ox) {
        float* cp = crow + ox * CW;
        const int64_t ix0 = ox * g.w.stride - g.w.pad_before;
        for (int64_t a = 0; a < KH; ++a) {
          const int64_t iy = oy * g.h.stride - g.h.pad_before + a * g.h.dilation;
          const bool row_in = iy >= 0 && iy < H;
          if (G == 1 && g.w.dilation == 1) {
            // The window row is contiguous in x and in col: one copy for its in-bounds part.
            float* dst = cp + a * KW * C;
            const int64_t b_lo = row_in ? std::clamp<int64_t>(-ix0, 0, KW) : KW;
            const int64_t b_hi = row_in ? std::clamp<int64_t>(W - ix0, b_lo, KW) : KW;
            if (b_lo > 0) std::memset(dst, 0, sizeof(float) * b_lo * C);
            if (b_hi > b_lo)
              std::memcpy(dst + b_lo * C, xn + (iy * W + ix0 + b_lo) * C,
                          sizeof(float) * (b_hi - b_lo) * C);
            if (b_hi < KW) std::memset(dst + b_hi * C, 0, sizeof(float) * (KW - b_hi) * C);
            continue;
          }
          for (int64_t b = 0; b < KW; ++b) {
            const int64_t ix = ix0 + b * g.w.dilation;
            const bool in = row_in && ix >= 0 && ix < W;
            const float* src = xn + (iy * W + ix) * C;
            for (int64_t grp = 0; grp < G; ++grp) {
              float* dst = cp + grp * Kg + (a * KW + b) * Cg;
              if (in)
                std::memcpy(dst, src + grp * Cg, sizeof(float) * Cg);
              else
                std::memset(dst, 0, sizeof(float) * Cg);
            }
          }
        }
      }
    }
  });
}

// One GEMM A micro-panel of the implicit convolution: rows [i0, i0 + m) (output pixels, m <= mr)
// by columns [p0, p0 + k) of group grp's block of the im2col matrix, in pack_a's layout. The
// columns are cut into runs that are contiguous in x for every row (a whole window row when
// there is one group and no column dilation, else one tap's channels); each run is packed by
// an 8 x 8 transpose straight from the image rows. A row whose run crosses the image border is
// first assembled (zeros + in-bounds part) in a small scratch row; one fully outside reads zeros.
// Row arrays of pack_im2col_panel live on the stack: every ISA's mr (12 at most) fits.
constexpr int kMaxMr = 16;

void pack_im2col_panel(const Conv2dGeometry& g, const CpuKernels& kt, const float* x, int64_t grp,
                       int64_t i0, int64_t m, int64_t p0, int64_t k, float* panel) {
  const int64_t H = g.h.in, W = g.w.in, C = g.cin, Cg = C / g.groups;
  const int64_t OH = g.h.out, OW = g.w.out, KW = g.w.k;
  const bool row_runs = g.groups == 1 && g.w.dilation == 1;
  const int64_t L = row_runs ? KW * C : Cg;  // run length
  thread_local std::vector<float> zeros, scratch;
  if (zeros.size() < static_cast<size_t>(L)) zeros.assign(static_cast<size_t>(L), 0.0f);
  if (scratch.size() < static_cast<size_t>(kMaxMr * L)) scratch.resize(kMaxMr * L);
  const float* img[kMaxMr];
  int64_t iy0[kMaxMr], ix0[kMaxMr];
  for (int64_t r = 0; r < m; ++r) {
    const int64_t i = i0 + r, n = i / (OH * OW), oy = i / OW % OH, ox = i % OW;
    img[r] = x + n * H * W * C + grp * Cg;
    iy0[r] = oy * g.h.stride - g.h.pad_before;
    ix0[r] = ox * g.w.stride - g.w.pad_before;
  }
  const float* rows[kMaxMr];
  for (int64_t s = p0 / L; s * L < p0 + k; ++s) {
    const int64_t lo = std::max(p0, s * L), hi = std::min(p0 + k, (s + 1) * L), off = lo - s * L;
    const int64_t a = row_runs ? s : s / KW, b = row_runs ? 0 : s % KW;
    for (int64_t r = 0; r < m; ++r) {
      const int64_t iy = iy0[r] + a * g.h.dilation, ix = ix0[r] + b * g.w.dilation;
      const float* src = img[r] + (iy * W + ix) * C;
      if (iy < 0 || iy >= H) {
        rows[r] = zeros.data() + off;
      } else if (!row_runs) {
        rows[r] = ix >= 0 && ix < W ? src + off : zeros.data() + off;
      } else if (ix >= 0 && ix + KW <= W) {
        rows[r] = src + off;
      } else {  // the window row crosses the left or right border
        float* d = scratch.data() + r * L;
        const int64_t b_lo = std::clamp<int64_t>(-ix, 0, KW);
        const int64_t b_hi = std::clamp<int64_t>(W - ix, b_lo, KW);
        std::memset(d, 0, sizeof(float) * b_lo * C);
        if (b_hi > b_lo) std::memcpy(d + b_lo * C, src + b_lo * C, sizeof(float) * (b_hi - b_lo) * C);
        std::memset(d + b_hi * C, 0, sizeof(float) * (KW - b_hi) * C);
        rows[r] = d + off;
      }
    }
    kt.pack_a_rows(m, kt.mr, hi - lo, rows, panel + (lo - p0) * kt.mr);
  }
}

// One A micro-panel of the weight gradient's implicit GEMM, A = im2col(x)^T: rows [i0, i0 + m)
// are kernel positions r = (a * KW + b) * Cg + c of group grp, columns [p0, p0 + k) output pixels.
// The rows of one tap (a, b) are adjacent channels of one input pixel, contiguous in NHWC, so
// each pixel's run is copied as one short vector (pack_a_columns); padded pixels read zeros.
void pack_im2col_transposed_panel(const Conv2dGeometry& g, const CpuKernels& kt, const float* x,
                                  int64_t grp, int64_t i0, int64_t m, int64_t p0, int64_t k,
                                  float* panel) {
  const int64_t H = g.h.in, W = g.w.in, C = g.cin, Cg = C / g.groups;
  const int64_t OH = g.h.out, OW = g.w.out, KW = g.w.k, mr = kt.mr;
  thread_local std::vector<const float*> cols;
  if (cols.size() < static_cast<size_t>(k)) cols.resize(static_cast<size_t>(k));
  for (int64_t r = i0; r < i0 + m;) {
    const int64_t tap = r / Cg, c0 = r % Cg, len = std::min(Cg - c0, i0 + m - r);
    const int64_t iy_off = tap / KW * g.h.dilation - g.h.pad_before;
    const int64_t ix_off = tap % KW * g.w.dilation - g.w.pad_before;
    const float* base = x + grp * Cg + c0;
    int64_t n = p0 / (OH * OW), oy = p0 / OW % OH, ox = p0 % OW;
    for (int64_t q = 0; q < k; ++q) {
      const int64_t iy = oy * g.h.stride + iy_off, ix = ox * g.w.stride + ix_off;
      cols[q] = iy >= 0 && iy < H && ix >= 0 && ix < W ? base + ((n * H + iy) * W + ix) * C
                                                       : nullptr;
      if (++ox == OW) {
        ox = 0;
        if (++oy == OH) {
          oy = 0;
          ++n;
        }
      }
    }
    kt.pack_a_columns(len, mr, k, cols.data(), panel + (r - i0));
    r += len;
  }
  if (m < mr)
    for (int64_t q = 0; q < k; ++q) std::memset(panel + q * mr + m, 0, sizeof(float) * (mr - m));
}

void col2im(const Conv2dGeometry& g, const float* col, float* dx) {
  const int64_t H = g.h.in, W = g.w.in, C = g.cin, G = g.groups, Cg = C / G;
  const int64_t OH = g.h.out, OW = g.w.out, KH = g.h.k, KW = g.w.k;
  const int64_t Kg = g.k_group(), CW = g.col_width();
  parallel_for(g.batch, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      float* dxn = dx + n * H * W * C;
      std::memset(dxn, 0, sizeof(float) * H * W * C);
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t a = 0; a < KH; ++a) {
          const int64_t iy = oy * g.h.stride - g.h.pad_before + a * g.h.dilation;
          if (iy < 0 || iy >= H) continue;
          for (int64_t ox = 0; ox < OW; ++ox) {
            const float* cp = col + ((n * OH + oy) * OW + ox) * CW;
            for (int64_t b = 0; b < KW; ++b) {
              const int64_t ix = ox * g.w.stride - g.w.pad_before + b * g.w.dilation;
              if (ix < 0 || ix >= W) continue;
              float* __restrict d = dxn + (iy * W + ix) * C;
              for (int64_t grp = 0; grp < G; ++grp) {
                const float* __restrict s = cp + grp * Kg + (a * KW + b) * Cg;
                float* __restrict dg = d + grp * Cg;
                for (int64_t c = 0; c < Cg; ++c) dg[c] += s[c];
              }
            }
          }
        }
    }
  });
}

bool conv2d_forward(const Conv2dGeometry& g, const float* x, const float* kernel, const float* bias,
                    Act act, float alpha, float* y, Tensor& col) {
  const int64_t G = g.groups, Cg = g.cin / G, Og = g.cout / G, Kg = g.k_group();
  const int64_t in_image = g.h.in * g.w.in * g.cin, out_image = g.out_pixels() * g.cout;
  GemmEpilogue ep;
  ep.act = act;
  ep.alpha = alpha;
  if (g.direct()) {
    for (int64_t grp = 0; grp < G; ++grp) {
      ep.bias = bias ? bias + grp * Og : nullptr;
      gemm(false, false, g.batch * g.out_pixels(), Og, Cg, x + grp * Cg, g.cin, kernel + grp * Og,
           g.cout, y + grp * Og, g.cout, false, &ep);
    }
    return false;
  }
  if (g.direct_taps()) {
    const CpuKernels& k = cpu_kernels();
    const int64_t OH = g.h.out, OW = g.w.out, row = OW * g.cout;
    parallel_for(g.batch * OH, chunk_for(g.batch * OH, 8), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t n = r / OH, oy = r % OH;
        float* yr = y + r * row;
        k.conv2d_direct_row(x + n * in_image, g.h.in, g.w.in, g.cin, kernel, g.h.k, g.w.k, g.cout,
                            g.h.stride, g.w.stride, g.h.dilation, g.w.dilation, g.h.pad_before,
                            g.w.pad_before, bias, oy, OW, yr);
        if (act != Act::Linear) k.act_forward(act, alpha, yr, yr, row);
      }
    });
    return false;
  }
  const CpuKernels& kt = cpu_kernels();
  const int64_t M = g.batch * g.out_pixels();
  if (winograd_applies(g)) {
    conv2d_winograd(g, x, kernel, bias, act, alpha, y);
    return false;
  }
  if (M > kt.small_m_rows && kt.mr <= kMaxMr) {
    // Implicit GEMM: each A micro-panel is packed straight from x (pack_im2col_panel), so the
    // im2col matrix (kh * kw times the input) is never written to memory and read back. The same packed values and blocking as the im2col path, so the
    // same bits. `col` is left alone: backward_weight builds im2col itself when it needs it.
    for (int64_t grp = 0; grp < G; ++grp) {
      const GemmPackA pack = [&](int64_t i0, int64_t m, int64_t p0, int64_t k, float* panel) {
        pack_im2col_panel(g, kt, x, grp, i0, m, p0, k, panel);
      };
      ep.bias = bias ? bias + grp * Og : nullptr;
      gemm_pack_a(M, Og, Kg, pack, kernel + grp * Og, g.cout, y + grp * Og, g.cout, &ep);
    }
    return false;
  }
  const int64_t slice = conv2d_slice_images(g);
  col.resize({slice * g.out_pixels(), g.col_width()});
  for (int64_t n0 = 0; n0 < g.batch; n0 += slice) {
    Conv2dGeometry sub = g;
    sub.batch = std::min(slice, g.batch - n0);
    im2col(sub, x + n0 * in_image, col.data());
    for (int64_t grp = 0; grp < G; ++grp) {
      ep.bias = bias ? bias + grp * Og : nullptr;
      gemm(false, false, sub.batch * g.out_pixels(), Og, Kg, col.data() + grp * Kg, g.col_width(),
           kernel + grp * Og, g.cout, y + n0 * out_image + grp * Og, g.cout, false, &ep);
    }
  }
  return slice >= g.batch;
}

void conv2d_backward_weight(const Conv2dGeometry& g, const float* x, const float* dy,
                            float* dkernel, float* dbias, bool accumulate, Tensor& col,
                            bool col_valid) {
  const int64_t G = g.groups, Cg = g.cin / G, Og = g.cout / G, Kg = g.k_group();
  const int64_t in_image = g.h.in * g.w.in * g.cin, out_image = g.out_pixels() * g.cout;
  if (dbias) sum_rows_fixed(dy, dbias, g.batch * g.out_pixels(), g.cout, accumulate);
  if (winograd_applies(g)) {
    conv2d_winograd_weight(g, x, dy, dkernel, accumulate);
    return;
  }
  if (g.direct()) {
    for (int64_t grp = 0; grp < G; ++grp)
      gemm(true, false, Cg, Og, g.batch * g.out_pixels(), x + grp * Cg, g.cin, dy + grp * Og,
           g.cout, dkernel + grp * Og, g.cout, accumulate);
    return;
  }
  const CpuKernels& kt = cpu_kernels();
  if (!col_valid && Cg * 2 >= kt.mr) {
    // Implicit GEMM over A = im2col(x)^T: panels gathered from x, no column matrix. (With fewer
    // channels per group than half a panel, each pixel's run is too short to pay for itself.)
    for (int64_t grp = 0; grp < G; ++grp) {
      const GemmPackA pack = [&](int64_t i0, int64_t m, int64_t p0, int64_t k, float* panel) {
        pack_im2col_transposed_panel(g, kt, x, grp, i0, m, p0, k, panel);
      };
      gemm_pack_a(Kg, Og, g.batch * g.out_pixels(), pack, dy + grp * Og, g.cout,
                  dkernel + grp * Og, g.cout, nullptr, accumulate);
    }
    return;
  }
  const int64_t slice = conv2d_slice_images(g);
  col_valid = col_valid && slice >= g.batch;
  if (!col_valid) col.resize({slice * g.out_pixels(), g.col_width()});
  for (int64_t n0 = 0; n0 < g.batch; n0 += slice) {
    Conv2dGeometry sub = g;
    sub.batch = std::min(slice, g.batch - n0);
    if (!col_valid) im2col(sub, x + n0 * in_image, col.data());
    for (int64_t grp = 0; grp < G; ++grp)
      gemm(true, false, Kg, Og, sub.batch * g.out_pixels(), col.data() + grp * Kg, g.col_width(),
           dy + n0 * out_image + grp * Og, g.cout, dkernel + grp * Og, g.cout,
           accumulate || n0 > 0);
  }
}

namespace {

// The axis of the convolution that maps dy back to dx when the forward one has stride 1: dy is
// its input, dx (the forward input's size) its output, and the window runs over the flipped
// kernel, so tap a' = k - 1 - a lands where tap a came from.
WindowAxis transposed_axis(const WindowAxis& a) {
  WindowAxis t;
  t.in = a.out;
  t.k = a.k;
  t.stride = 1;
  t.dilation = a.dilation;
  t.out = a.in;
  t.pad_before = (a.k - 1) * a.dilation - a.pad_before;
  t.pad_after = (a.k - 1) * a.dilation - a.pad_after;
  return t;
}

// dx as an implicit-GEMM convolution of dy (stride 1, one group): A panels gathered from dy,
// B = the kernel flipped in space with its channel axes swapped (built in `work`), so neither
// the (pixels x kh*kw*cin) column matrix nor the scatter-add of col2im is ever needed.
void backward_input_implicit(const Conv2dGeometry& g, const CpuKernels& kt, const float* dy,
                             const float* kernel, float* dx, Tensor& work) {
  const int64_t KH = g.h.k, KW = g.w.k, C = g.cin, O = g.cout;
  work.resize({KH * KW * O, C});
  float* flipped = work.data();
  for (int64_t a = 0; a < KH; ++a)
    for (int64_t b = 0; b < KW; ++b) {
      const float* src = kernel + ((KH - 1 - a) * KW + (KW - 1 - b)) * C * O;  // (c, o)
      float* dst = flipped + (a * KW + b) * O * C;                              // (o, c)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t o = 0; o < O; ++o) dst[o * C + c] = src[c * O + o];
    }
  Conv2dGeometry t;
  t.batch = g.batch;
  t.cin = O;
  t.cout = C;
  t.groups = 1;
  t.h = transposed_axis(g.h);
  t.w = transposed_axis(g.w);
  if (winograd_applies(t)) {
    conv2d_winograd(t, dy, flipped, nullptr, Act::Linear, 0.0f, dx);
    return;
  }
  const GemmPackA pack = [&](int64_t i0, int64_t m, int64_t p0, int64_t k, float* panel) {
    pack_im2col_panel(t, kt, dy, 0, i0, m, p0, k, panel);
  };
  gemm_pack_a(g.batch * g.h.in * g.w.in, C, KH * KW * O, pack, flipped, C, dx, C, nullptr);
}

}  // namespace

void conv2d_backward_input(const Conv2dGeometry& g, const float* dy, const float* kernel, float* dx,
                           Tensor& dcol) {
  const int64_t G = g.groups, Cg = g.cin / G, Og = g.cout / G, Kg = g.k_group();
  const int64_t in_image = g.h.in * g.w.in * g.cin, out_image = g.out_pixels() * g.cout;
  if (g.direct()) {
    for (int64_t grp = 0; grp < G; ++grp)
      gemm(false, true, g.batch * g.out_pixels(), Cg, Og, dy + grp * Og, g.cout, kernel + grp * Og,
           g.cout, dx + grp * Cg, g.cin);
    return;
  }
  const CpuKernels& kt = cpu_kernels();
  // Stride 1, one group, enough input channels to fill the micro-tile's width (a narrow N would
  // waste most of each tile): the transposed convolution, gathered like the forward one.
  if (G == 1 && g.h.stride == 1 && g.w.stride == 1 && 2 * g.cin >= kt.nr &&
      g.batch * g.h.in * g.w.in > kt.small_m_rows && kt.mr <= kMaxMr) {
    backward_input_implicit(g, kt, dy, kernel, dx, dcol);
    return;
  }
  const int64_t slice = conv2d_slice_images(g);
  dcol.resize({slice * g.out_pixels(), g.col_width()});
  for (int64_t n0 = 0; n0 < g.batch; n0 += slice) {
    Conv2dGeometry sub = g;
    sub.batch = std::min(slice, g.batch - n0);
    for (int64_t grp = 0; grp < G; ++grp)
      gemm(false, true, sub.batch * g.out_pixels(), Kg, Og, dy + n0 * out_image + grp * Og, g.cout,
           kernel + grp * Og, g.cout, dcol.data() + grp * Kg, g.col_width());
    col2im(sub, dcol.data(), dx + n0 * in_image);
  }
}

void sum_rows_fixed(const float* x, float* out, int64_t rows, int64_t cols, bool accumulate) {
  constexpr int64_t kRowsPerChunk = 1024;
  const int64_t chunks = (rows + kRowsPerChunk - 1) / kRowsPerChunk;
  if (chunks <= 1) {
    cpu_kernels().sum_rows(x, out, rows, cols, accumulate);
    return;
  }
  // Per-chunk partial sums, kept between calls so a training step allocates nothing. The buffer
  // is the calling thread's; the workers write into it through `partial`, never by its name
  // (a thread_local named inside the loop would be each worker's own, empty one).
  thread_local std::vector<float> buffer;
  buffer.resize(static_cast<size_t>(chunks * cols));
  float* partial = buffer.data();
  const CpuKernels& k = cpu_kernels();
  parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t r0 = c * kRowsPerChunk, r1 = std::min(rows, r0 + kRowsPerChunk);
      k.sum_rows(x + r0 * cols, partial + c * cols, r1 - r0, cols, false);
    }
  });
  if (!accumulate) std::memset(out, 0, sizeof(float) * cols);
  for (int64_t c = 0; c < chunks; ++c)
    for (int64_t j = 0; j < cols; ++j) out[j] += partial[c * cols + j];
}

}  // namespace kerasette

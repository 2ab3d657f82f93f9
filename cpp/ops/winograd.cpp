#include "ops/winograd.h"

#include <algorithm>
#include <vector>

#include "core/parallel.h"
#include "ops/dispatch.h"

namespace kerasette {
namespace {

// The m x m output tiles of a Winograd convolution over the batch, numbered image by image, row
// by row; tile t reads the 6 x 6 input patch whose corner is (iy, ix) and writes outputs from
// (oy, ox) of image n.
struct Tiling {
  int64_t r, m, rows, cols, per_image, count;
  explicit Tiling(const Conv2dGeometry& g)
      : r(g.h.k),
        m(7 - g.h.k),
        rows((g.h.out + m - 1) / m),
        cols((g.w.out + m - 1) / m),
        per_image(rows * cols),
        count(g.batch * per_image) {}
  struct Tile {
    int64_t n, oy, ox;
  };
  Tile at(int64_t t) const { return {t / per_image, t % per_image / cols * m, t % cols * m}; }
};

}  // namespace

bool winograd_applies(const Conv2dGeometry& g) {
  return g.groups == 1 && g.h.stride == 1 && g.w.stride == 1 && g.h.dilation == 1 &&
         g.w.dilation == 1 && g.h.k == g.w.k && (g.h.k == 3 || g.h.k == 5) && g.cin >= 16 &&
         g.cout >= 16 && g.cin <= 1024 && g.h.out >= 2 && g.w.out >= 2;
}

void conv2d_winograd(const Conv2dGeometry& g, const float* x, const float* kernel,
                     const float* bias, Act act, float alpha, float* y) {
  const CpuKernels& kt = cpu_kernels();
  const Tiling tiling(g);
  const int64_t r = tiling.r, C = g.cin, O = g.cout, tiles = tiling.count;
  const int64_t H = g.h.in, W = g.w.in, OH = g.h.out, OW = g.w.out;
  const int64_t mr = kt.mr, nr = kt.nr, O_pad = (O + nr - 1) / nr * nr;

  // The transformed kernel, packed once per call as the B operand of each of the 36 GEMMs. Held
  // by the calling thread and read by the workers through the pointer.
  thread_local std::vector<float> u_rows, u_buffer;
  u_rows.resize(static_cast<size_t>(36 * C * O));
  u_buffer.resize(static_cast<size_t>(36 * C * O_pad));
  kt.winograd_kernel(r, kernel, C, O, u_rows.data());
  float* u_packed = u_buffer.data();
  for (int64_t xi = 0; xi < 36; ++xi)
    kt.pack_b(C, O, u_rows.data() + xi * C * O, O, 1, u_packed + xi * C * O_pad);

  // Blocks of two micro-panels of tiles: the block's transformed input (36 x TB x C) and GEMM
  // output (36 x TB x O) stay in L2 between the three phases.
  const int64_t TB = 2 * mr;
  const int64_t blocks = (tiles + TB - 1) / TB;
  parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    thread_local std::vector<float> v_buf, t_buf, a_buf;
    v_buf.resize(static_cast<size_t>(36 * TB * C));
    t_buf.resize(static_cast<size_t>(36 * TB * O));
    a_buf.resize(static_cast<size_t>(TB * C));
    float *v = v_buf.data(), *t = t_buf.data(), *pa = a_buf.data();
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t t0 = blk * TB, nt = std::min(TB, tiles - t0);
      for (int64_t i = 0; i < nt; ++i) {
        const Tiling::Tile tl = tiling.at(t0 + i);
        kt.winograd_input(x + tl.n * H * W * C, H, W, C, tl.oy - g.h.pad_before,
                          tl.ox - g.w.pad_before, v + i * C, TB * C);
      }
      for (int64_t xi = 0; xi < 36; ++xi) {
        kt.pack_a(nt, C, v + xi * TB * C, C, 1, pa);
        const float* ub = u_packed + xi * C * O_pad;
        float* tx_out = t + xi * TB * O;
        for (int64_t ir = 0; ir < nt; ir += mr)
          for (int64_t jr = 0; jr < O; jr += nr)
            kt.gemm_ukernel(C, pa + ir * C, ub + jr * C, tx_out + ir * O + jr, O,
                            std::min(mr, nt - ir), std::min(nr, O - jr), false);
      }
      for (int64_t i = 0; i < nt; ++i) {
        const Tiling::Tile tl = tiling.at(t0 + i);
        kt.winograd_output(r, t + i * O, TB * O, O, bias, y + tl.n * OH * OW * O, OH, OW, tl.oy,
                           tl.ox);
      }
    }
  });
  if (act != Act::Linear) {
    const int64_t image = OH * OW * O;
    parallel_for(g.batch, 1, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n) kt.act_forward(act, alpha, y + n * image, y + n * image, image);
    });
  }
}

void conv2d_winograd_weight(const Conv2dGeometry& g, const float* x, const float* dy,
                            float* dkernel, bool accumulate) {
  const CpuKernels& kt = cpu_kernels();
  const Tiling tiling(g);
  const int64_t r = tiling.r, C = g.cin, O = g.cout, tiles = tiling.count;
  const int64_t H = g.h.in, W = g.w.in, OH = g.h.out, OW = g.w.out;
  const int64_t mr = kt.mr, nr = kt.nr;
  const int64_t C_pad = (C + mr - 1) / mr * mr, O_pad = (O + nr - 1) / nr * nr;
  constexpr int64_t TB = 64;                // tiles per GEMM block: the GEMMs' K
  constexpr int64_t kChunkTiles = 4 * TB;   // tiles per partial sum, fixed
  const int64_t chunks = (tiles + kChunkTiles - 1) / kChunkTiles;
  const int64_t S = 36 * C * O;
  thread_local std::vector<float> partial_buffer;  // the caller's; workers write through `partial`
  partial_buffer.resize(static_cast<size_t>(chunks * S));
  float* partial = partial_buffer.data();

  parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    // u holds the transformed dy already in the GEMMs' packed-B layout: per xi, O_pad / nr
    // panels of TB tiles x nr channels (columns past O are never stored by the micro-kernel).
    thread_local std::vector<float> v_buf, u_buf, a_buf;
    v_buf.resize(static_cast<size_t>(36 * TB * C));
    u_buf.resize(static_cast<size_t>(36 * TB * O_pad));
    a_buf.resize(static_cast<size_t>(C_pad * TB));
    float *v = v_buf.data(), *u = u_buf.data(), *pa = a_buf.data();
    for (int64_t chunk = c0; chunk < c1; ++chunk) {
      float* part = partial + chunk * S;
      const int64_t first = chunk * kChunkTiles, last = std::min(tiles, first + kChunkTiles);
      for (int64_t t0 = first; t0 < last; t0 += TB) {
        const int64_t nt = std::min(TB, last - t0);
        for (int64_t i = 0; i < nt; ++i) {
          const Tiling::Tile tl = tiling.at(t0 + i);
          kt.winograd_input(x + tl.n * H * W * C, H, W, C, tl.oy - g.h.pad_before,
                            tl.ox - g.w.pad_before, v + i * C, TB * C);
          kt.winograd_dy(r, dy + tl.n * OH * OW * O, OH, OW, O, tl.oy, tl.ox, u + i * nr,
                         TB * O_pad, nr, TB * nr);
        }
        const bool acc = t0 > first;
        for (int64_t xi = 0; xi < 36; ++xi) {
          kt.pack_a(C, nt, v + xi * TB * C, 1, C, pa);  // A = V^T (channels x tiles)
          const float* ub = u + xi * TB * O_pad;
          float* sx = part + xi * C * O;
          for (int64_t ir = 0; ir < C; ir += mr)
            for (int64_t jr = 0; jr < O; jr += nr)
              kt.gemm_ukernel(nt, pa + ir * nt, ub + jr * TB, sx + ir * O + jr, O,
                              std::min(mr, C - ir), std::min(nr, O - jr), acc);
        }
      }
    }
  });
  // Chunk sums into chunk 0, in chunk order for every element.
  parallel_for(S, 4096, [&](int64_t e0, int64_t e1) {
    for (int64_t chunk = 1; chunk < chunks; ++chunk) {
      const float* src = partial + chunk * S;
      for (int64_t e = e0; e < e1; ++e) partial[e] += src[e];
    }
  });
  kt.winograd_weight_output(r, partial, C, O, dkernel, accumulate);
}

}  // namespace kerasette

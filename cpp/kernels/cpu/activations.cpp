// Activations (forward and backward) and row softmax, for one ISA.
//
// The loops run on GCC/Clang vector extensions of this ISA's natural width (16 floats for AVX-512,
// 8 for AVX2, 4 = SSE2 for the x86-64 baseline; other targets lower them to scalars), plus a few
// intrinsics where the extensions have no spelling (FMA, masked tail loads). The transcendentals
// (exp, expm1, log1p, tanh, the normal CDF) are branch-free polynomials written here, accurate to
// a few ulp, so every activation vectorizes. A row's tail is run through the same
// vector code on a zero-padded partial load, so an element's result never depends on its position.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/simd.h"

namespace kerasette::cpu::KS_ISA {
namespace {

// ---- vector vocabulary beyond simd.h ----

KS_INLINE vf sel(vi m, vf a, vf b) { return m ? a : b; }
KS_INLINE vf vabs(vf x) { return (vf)((vu)x & 0x7fffffffu); }
KS_INLINE vf neg_abs(vf x) { return (vf)((vu)x | 0x80000000u); }
// max/min that let a NaN in x through (like x86 maxps with x second).
KS_INLINE vf vmax(vf x, vf lo) { return sel(x < lo, lo, x); }
KS_INLINE vf vmin(vf x, vf hi) { return sel(x > hi, hi, x); }

KS_INLINE float hsum(vf v) {  // fixed lane order
  float s = v[0];
  for (int i = 1; i < kW; ++i) s += v[i];
  return s;
}
KS_INLINE float hmax(vf v) {
  float m = v[0];
  for (int i = 1; i < kW; ++i) m = v[i] > m ? v[i] : m;
  return m;
}

// ---- transcendentals ----

// Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, n returned as an integer vector. ln2 is split
// Cephes-style (ln2_hi has 9 bits) so n * ln2_hi is exact even without FMA. Rounding uses the
// 1.5 * 2^23 shifter: the integer n then sits in the low mantissa bits of z.
KS_INLINE vf reduce_ln2(vf x, vi& n_int) {
  const vf shift = splat(0x1.8p23f);
  vf z = fmadd(x, splat(1.44269504088896341f), shift);
  vf n = z - shift;
  n_int = (vi)z - (vi)shift;
  vf r = fmadd(n, splat(-0.693359375f), x);
  return fmadd(n, splat(2.12194440e-4f), r);
}

// exp(r) - 1 on |r| <= ln2/2: r + r^2 P(r), Cephes expf's polynomial.
KS_INLINE vf expm1_poly(vf r) {
  vf p = fmadd(splat(1.9875691500e-4f), r, splat(1.3981999507e-3f));
  p = fmadd(p, r, splat(8.3334519073e-3f));
  p = fmadd(p, r, splat(4.1665795894e-2f));
  p = fmadd(p, r, splat(1.6666665459e-1f));
  p = fmadd(p, r, splat(5.0000001201e-1f));
  return fmadd(p, r * r, r);
}

KS_INLINE vf pow2i(vi n) { return (vf)((n + 127) << 23); }  // 2^n for n in [-126, 127]

// exp(x), about 1-2 ulp. x is clamped to [-104, 89]: beyond, the float result is 0 or inf anyway.
// 2^n (n in [-150, 128]) is applied as two factors so that overflow gives inf and gradual
// underflow rounds once. The clamps are selects, so a NaN passes through.
KS_INLINE vf v_exp(vf x) {
  x = vmin(vmax(x, splat(-104.0f)), splat(89.0f));
  vi n;
  vf r = reduce_ln2(x, n);
  vf p = expm1_poly(r) + 1.0f;
  vi n1 = n >> 1;
  return p * pow2i(n1) * pow2i(n - n1);
}

// expm1(x) for x <= 88, about 1 ulp: 2^n q + (2^n - 1) with q = expm1(r), so small |x| (n = 0)
// keeps full relative precision (needed by elu/selu near 0).
KS_INLINE vf v_expm1(vf x) {
  x = vmin(vmax(x, splat(-30.0f)), splat(88.0f));  // expm1(-30) is -1 in float
  vi n;
  vf r = reduce_ln2(x, n);
  vf s = pow2i(n);
  return fmadd(s, expm1_poly(r), s - 1.0f);
}

// log1p(u) for u in [0, 1] (softplus's exp(-|x|)): Cephes logf's polynomial on f in
// [sqrt(1/2) - 1, sqrt(2) - 1]. Below sqrt(2) - 1, f = u exactly (no rounding of 1 + u, so tiny u
// keep full relative precision); above, 1 + u = 2 (1 + f) with f = (u - 1) / 2.
KS_INLINE vf v_log1p_unit(vf u) {
  vi big = u >= 0.41421356f;
  vf f = sel(big, (u - 1.0f) * 0.5f, u);
  vf e = sel(big, splat(1.0f), vf{});
  vf z = f * f;
  vf y = fmadd(splat(7.0376836292e-2f), f, splat(-1.1514610310e-1f));
  y = fmadd(y, f, splat(1.1676998740e-1f));
  y = fmadd(y, f, splat(-1.2420140846e-1f));
  y = fmadd(y, f, splat(1.4249322787e-1f));
  y = fmadd(y, f, splat(-1.6668057665e-1f));
  y = fmadd(y, f, splat(2.0000714765e-1f));
  y = fmadd(y, f, splat(-2.4999993993e-1f));
  y = fmadd(y, f, splat(3.3333331174e-1f));
  y = y * (f * z);
  y = fmadd(e, splat(-2.12194440e-4f), y);
  y = fmadd(z, splat(-0.5f), y);
  return fmadd(e, splat(0.693359375f), f + y);
}

// tanh: Cephes tanhf. For |x| >= 0.625, 1 - 2 / (exp(2|x|) + 1) has no cancellation (and gives 1
// once exp overflows); below, an odd polynomial keeps relative accuracy near 0.
KS_INLINE vf v_tanh(vf x) {
  vf ax = vabs(x);
  vf big = 1.0f - 2.0f / (v_exp(ax + ax) + 1.0f);
  big = (vf)((vu)big | ((vu)x & 0x80000000u));
  vf s = x * x;
  vf p = fmadd(splat(-5.70498872745e-3f), s, splat(2.06390887954e-2f));
  p = fmadd(p, s, splat(-5.37397155531e-2f));
  p = fmadd(p, s, splat(1.33314422036e-1f));
  p = fmadd(p, s, splat(-3.33332819422e-1f));
  vf small = fmadd(p * s, x, x);
  return sel(ax >= 0.625f, big, small);
}

// sigmoid(v) and sigmoid(-v) = 1 - sigmoid(v), both without cancellation: with e = exp(-|v|)
// (never overflows), 1 / (1 + e) is the side >= 1/2 and e / (1 + e) the other.
struct sig_pair {
  vf pos, neg;
};
KS_INLINE sig_pair v_sigmoid2(vf v) {
  vf e = v_exp(neg_abs(v));
  vf s = 1.0f / (1.0f + e);
  vf es = e * s;
  vi nonneg = v >= 0.0f;
  return {sel(nonneg, s, es), sel(nonneg, es, s)};
}

// The same for v = hi + lo (lo a small correction): exp(-|v|) = exp(-|hi|) (1 - sign(hi) lo).
KS_INLINE sig_pair v_sigmoid2(vf hi, vf lo) {
  vf e = v_exp(neg_abs(hi));
  e = fmadd(e, -(vf)((vu)lo ^ ((vu)hi & 0x80000000u)), e);
  vf s = 1.0f / (1.0f + e);
  vf es = e * s;
  vi nonneg = hi >= 0.0f;
  return {sel(nonneg, s, es), sel(nonneg, es, s)};
}

// Standard normal CDF and PDF for exact GELU. Phi(x) = erfc(-x / sqrt2) / 2 with erfc from
// Numerical Recipes' erfcc (Chebyshev fit, relative error < 1.2e-7 over the whole line):
// erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z/2). Taking the erfc of |x| and 2 - erfc for x > 0
// keeps the far-left tail relatively accurate (1 + erf(x) would cancel). z^2 = x^2 / 2 is split
// exactly as a + b (x's top 12 bits squared, plus the rest), since rounding x^2 / 2 ~ 80 would cost
// 1e-5 relative; exp(-a) then carries the large part exactly.
struct gauss_pair {
  vf cdf, pdf;
};
KS_INLINE gauss_pair v_gauss(vf x, bool want_pdf) {
  vf ax = vabs(x);
  vf t = 1.0f / fmadd(ax, splat(0.35355339059327373f), splat(1.0f));
  vf p = fmadd(splat(0.17087277f), t, splat(-0.82215223f));
  p = fmadd(p, t, splat(1.48851587f));
  p = fmadd(p, t, splat(-1.13520398f));
  p = fmadd(p, t, splat(0.27886807f));
  p = fmadd(p, t, splat(-0.18628806f));
  p = fmadd(p, t, splat(0.09678418f));
  p = fmadd(p, t, splat(0.37409196f));
  p = fmadd(p, t, splat(1.00002368f));
  p = fmadd(p, t, splat(-1.26551223f));
  vf xh = (vf)((vu)ax & 0xfffff000u);
  vf xl = ax - xh;
  vf a = 0.5f * xh * xh;                  // exact: 12-bit square
  vf b = fmadd(0.5f * xl, xl, xh * xl);  // xh * xl is exact too
  vf ea = v_exp(-a);
  vf erfc_ax = t * ea * v_exp(p - b);
  gauss_pair g;
  g.cdf = 0.5f * sel(x > 0.0f, 2.0f - erfc_ax, erfc_ax);
  g.pdf = want_pdf ? ea * v_exp(-b) * 0.3989422804014327f : vf{};
  return g;
}

// ---- activation drivers ----

template <class F>
KS_INLINE void map1(const float* x, float* y, int64_t n, F f) {
  int64_t i = 0;
  for (; i + kW <= n; i += kW) store(y + i, f(load(x + i)));
  if (i < n) store_partial(y + i, f(load_partial(x + i, n - i)), n - i);
}

// f(x, y, dy) -> dx
template <class F>
KS_INLINE void map3(const float* x, const float* y, const float* dy, float* dx, int64_t n, F f) {
  int64_t i = 0;
  for (; i + kW <= n; i += kW) store(dx + i, f(load(x + i), load(y + i), load(dy + i)));
  if (i < n) {
    const int64_t r = n - i;
    vf v = f(load_partial(x + i, r), load_partial(y + i, r), load_partial(dy + i, r));
    store_partial(dx + i, v, r);
  }
}

void copy(const float* src, float* dst, int64_t n) {
  if (src != dst) std::memmove(dst, src, (size_t)n * sizeof(float));
}

constexpr float kSeluScale = 1.0507009873554805f;
constexpr float kSeluAlpha = 1.6732632423543772f;
constexpr double kGeluC2 = 1.5957691216057308;  // 2 sqrt(2 / pi): tanh(u) = 2 sigmoid(2u) - 1
constexpr float kGeluK = 0.044715f;

typedef double vd __attribute__((vector_size(kW * sizeof(double))));

// 2u = 2 sqrt(2/pi) (x + 0.044715 x^3) as a float pair hi + lo, evaluated in double: for x << 0,
// GELU ~ x exp(2u) is so sensitive to 2u (|2u| ~ 80) that float rounding of the cubic alone would
// cost ~1e-5 relative in the tail.
KS_INLINE vf gelu_tanh_arg(vf v, vf& lo) {
  vd x = __builtin_convertvector(v, vd);
  vd u2 = (double)kGeluC2 * x * (1.0 + 0.044715 * (x * x));
  vf hi = __builtin_convertvector(u2, vf);
  lo = __builtin_convertvector(u2 - __builtin_convertvector(hi, vd), vf);
  return hi;
}

// clip(x / 6 + 0.5, 0, 1), computed as relu6(x + 3) / 6 like Keras 3's jax/tf/torch backends:
// x + 3 is exact near x = -3, where x / 6 + 0.5 would cancel.
KS_INLINE vf hard_sigmoid(vf v) { return vmin(vmax(v + 3.0f, vf{}), splat(6.0f)) / 6.0f; }

// tanh(softplus(x)) for mish: with e = exp(x), (1 + e)^2 = 1 + n, n = e (e + 2), and
// tanh(log(1 + e)) = n / (n + 2) exactly; 1 - that = 2 / (n + 2) feeds the derivative without
// cancellation. Clamping x at 20 keeps n finite (the value is 1 in float beyond ~9).
KS_INLINE vf mish_n(vf x) {
  vf e = v_exp(vmin(x, splat(20.0f)));
  return e * (e + 2.0f);
}

void act_forward(Act act, float alpha, const float* x, float* y, int64_t n) {
  const vf zero = {};
  switch (act) {
    case Act::Relu:  // relu(0) = 0; NaN passes through
      return map1(x, y, n, [=](vf v) { return vmax(v, zero); });
    case Act::Sigmoid:
      return map1(x, y, n, [](vf v) { return v_sigmoid2(v).pos; });
    case Act::Tanh:
      return map1(x, y, n, [](vf v) { return v_tanh(v); });
    case Act::Elu: {
      const vf a = splat(alpha);
      return map1(x, y, n, [=](vf v) { return sel(v > 0.0f, v, a * v_expm1(v)); });
    }
    case Act::Selu:
      return map1(x, y, n, [](vf v) {
        return kSeluScale * sel(v > 0.0f, v, kSeluAlpha * v_expm1(v));
      });
    case Act::LeakyRelu: {  // Keras: x if x >= 0 else slope * x
      const vf a = splat(alpha);
      return map1(x, y, n, [=](vf v) { return sel(v >= 0.0f, v, a * v); });
    }
    case Act::Softplus:  // log1p(exp(-|x|)) + max(x, 0): exp never overflows
      return map1(x, y, n, [=](vf v) {
        return v_log1p_unit(v_exp(neg_abs(v))) + vmax(v, zero);
      });
    case Act::Softsign:
      return map1(x, y, n, [](vf v) { return v / (1.0f + vabs(v)); });
    case Act::Swish:
      return map1(x, y, n, [](vf v) { return v * v_sigmoid2(v).pos; });
    case Act::Gelu:
      if (alpha != 0.0f) {  // 0.5 x (1 + tanh(u)) = x sigmoid(2u): no cancellation for x << 0
        return map1(x, y, n, [](vf v) {
          vf lo, hi = gelu_tanh_arg(v, lo);
          return v * v_sigmoid2(hi, lo).pos;
        });
      }
      return map1(x, y, n, [](vf v) { return v * v_gauss(v, false).cdf; });
    case Act::HardSigmoid:
      return map1(x, y, n, [](vf v) { return hard_sigmoid(v); });
    case Act::Exponential:
      return map1(x, y, n, [](vf v) { return v_exp(v); });
    case Act::Relu6:
      return map1(x, y, n, [=](vf v) { return vmin(vmax(v, zero), splat(6.0f)); });
    case Act::Mish:
      return map1(x, y, n, [](vf v) {
        vf m = mish_n(v);
        return v * (m / (m + 2.0f));
      });
    case Act::HardSwish:
      return map1(x, y, n, [](vf v) { return v * hard_sigmoid(v); });
    default:  // Linear; Softmax belongs to softmax_rows and is a plain copy here
      return copy(x, y, n);
  }
}

// dx = dy * f'(x). Kinks: relu'(0) = 0, leaky'(0) = 1 (x >= 0 branch), relu6' = 1 on (0, 6),
// hard_sigmoid' = 1/6 on (-3, 3), elu'(0) = alpha (x > 0 branch is the identity), all as Keras'
// backends (jax.grad of where()) give them. Sigmoid, tanh, exponential and elu/selu use y.
void act_backward(Act act, float alpha, const float* x, const float* y, const float* dy,
                  float* dx, int64_t n) {
  const vf zero = {}, one = splat(1.0f);
  switch (act) {
    case Act::Relu:
      return map3(x, y, dy, dx, n, [=](vf v, vf, vf d) { return sel(v > 0.0f, d, zero); });
    case Act::Sigmoid:
      return map3(x, y, dy, dx, n, [=](vf, vf s, vf d) { return d * (s * (one - s)); });
    case Act::Tanh:
      return map3(x, y, dy, dx, n, [=](vf, vf t, vf d) { return d * (one - t * t); });
    case Act::Elu: {  // x <= 0: alpha exp(x) = y + alpha
      const vf a = splat(alpha);
      return map3(x, y, dy, dx, n,
                  [=](vf v, vf t, vf d) { return sel(v > 0.0f, d, d * (t + a)); });
    }
    case Act::Selu:  // x <= 0: scale alpha exp(x) = y + scale alpha
      return map3(x, y, dy, dx, n, [](vf v, vf t, vf d) {
        return sel(v > 0.0f, kSeluScale * d, d * (t + kSeluScale * kSeluAlpha));
      });
    case Act::LeakyRelu: {
      const vf a = splat(alpha);
      return map3(x, y, dy, dx, n, [=](vf v, vf, vf d) { return sel(v >= 0.0f, d, a * d); });
    }
    case Act::Softplus:  // sigmoid(x)
      return map3(x, y, dy, dx, n, [](vf v, vf, vf d) { return d * v_sigmoid2(v).pos; });
    case Act::Softsign:  // 1 / (1 + |x|)^2
      return map3(x, y, dy, dx, n, [=](vf v, vf, vf d) {
        vf q = one + vabs(v);
        return d / (q * q);
      });
    case Act::Swish:  // s + x s (1 - s) = s (1 + x sigmoid(-x))
      return map3(x, y, dy, dx, n, [=](vf v, vf, vf d) {
        sig_pair s = v_sigmoid2(v);
        return d * (s.pos * fmadd(v, s.neg, one));
      });
    case Act::Gelu:
      if (alpha != 0.0f) {  // d/dx x s(2u) = s + x s(2u) s(-2u) 2u'
        return map3(x, y, dy, dx, n, [=](vf v, vf, vf d) {
          vf lo, hi = gelu_tanh_arg(v, lo);
          sig_pair s = v_sigmoid2(hi, lo);
          vf du2 = (float)kGeluC2 * fmadd(splat(3.0f * kGeluK), v * v, one);
          return d * fmadd(v * (s.pos * s.neg), du2, s.pos);
        });
      }
      return map3(x, y, dy, dx, n, [](vf v, vf, vf d) {  // Phi(x) + x phi(x)
        gauss_pair g = v_gauss(v, true);
        return d * fmadd(v, g.pdf, g.cdf);
      });
    case Act::HardSigmoid:
      return map3(x, y, dy, dx, n, [=](vf v, vf, vf d) {
        return sel((v > -3.0f) & (v < 3.0f), d * (1.0f / 6.0f), zero);
      });
    case Act::Exponential:
      return map3(x, y, dy, dx, n, [](vf, vf t, vf d) { return d * t; });
    case Act::Relu6:
      return map3(x, y, dy, dx, n,
                  [=](vf v, vf, vf d) { return sel((v > 0.0f) & (v < 6.0f), d, zero); });
    case Act::Mish:  // ts + x (1 - ts^2) sigmoid(x), 1 - ts = 2 / (n + 2), sigmoid = e / (1 + e)
      return map3(x, y, dy, dx, n, [=](vf v, vf, vf d) {
        vf e = v_exp(vmin(v, splat(20.0f)));
        vf m = e * (e + 2.0f);
        vf inv = one / (m + 2.0f);
        vf ts = m * inv;
        vf sg = e / (one + e);
        return d * fmadd(v * (2.0f * inv), (one + ts) * sg, ts);
      });
    case Act::HardSwish:  // hs(x) + x hs'(x): (2x + 3) / 6 on (-3, 3), 1 above, 0 below
      return map3(x, y, dy, dx, n, [=](vf v, vf, vf d) {
        vf mid = (v + v + 3.0f) / 6.0f;
        return d * sel(v >= 3.0f, one, sel(v > -3.0f, mid, zero));
      });
    default:  // Linear; Softmax (its gradient is softmax_rows_backward's)
      return copy(dy, dx, n);
  }
}

// ---- softmax over rows ----

void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols) {
  const int64_t tail = cols % kW, body = cols - tail;
  const vi tail_mask = lanes_below(tail);
  const vf neg_inf = splat(-INFINITY);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    vf m = neg_inf;
    for (int64_t c = 0; c < body; c += kW) m = vmax(load(xr + c), m);
    if (tail) m = vmax(sel(tail_mask, load_partial(xr + body, tail), neg_inf), m);
    const vf mx = splat(hmax(m));  // exp(x - max) <= 1: no overflow
    vf acc = {};
    for (int64_t c = 0; c < body; c += kW) {
      vf e = v_exp(load(xr + c) - mx);
      store(yr + c, e);
      acc += e;
    }
    if (tail) {
      vf e = sel(tail_mask, v_exp(load_partial(xr + body, tail) - mx), vf{});
      store_partial(yr + body, e, tail);
      acc += e;
    }
    const float inv = 1.0f / hsum(acc);
    for (int64_t c = 0; c < body; c += kW) store(yr + c, load(yr + c) * inv);
    if (tail) store_partial(yr + body, load_partial(yr + body, tail) * inv, tail);
  }
}

void softmax_rows_backward(const float* y, const float* dy, float* dx, int64_t rows,
                           int64_t cols) {
  const int64_t tail = cols % kW, body = cols - tail;
  for (int64_t r = 0; r < rows; ++r) {
    const float* yr = y + r * cols;
    const float* gr = dy + r * cols;
    float* dr = dx + r * cols;
    vf acc = {};
    for (int64_t c = 0; c < body; c += kW) acc = fmadd(load(yr + c), load(gr + c), acc);
    if (tail) acc = fmadd(load_partial(yr + body, tail), load_partial(gr + body, tail), acc);
    const vf s = splat(hsum(acc));
    for (int64_t c = 0; c < body; c += kW) store(dr + c, load(yr + c) * (load(gr + c) - s));
    if (tail) {
      vf v = load_partial(yr + body, tail) * (load_partial(gr + body, tail) - s);
      store_partial(dr + body, v, tail);
    }
  }
}

#undef KS_INLINE

}  // namespace

void fill_activations(CpuKernels& t) {
  t.act_forward = act_forward;
  t.act_backward = act_backward;
  t.softmax_rows = softmax_rows;
  t.softmax_rows_backward = softmax_rows_backward;
}

}  // namespace kerasette::cpu::KS_ISA

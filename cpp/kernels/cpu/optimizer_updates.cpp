// Optimizer update kernels for one ISA: one fused, vectorizable loop per optimizer variant, with
// every option decided outside the loop. The arithmetic follows Keras 3's update formulas
// operation by operation (see kernels.h), e.g. w -= (m * alpha) / (sqrt(v) + eps) for Adam.
#include <cmath>
#include <cstdint>

#include "kernels/cpu/kernels.h"

namespace kerasette::cpu::KS_ISA {
namespace {

void sgd_update(float* __restrict w, const float* __restrict g, float* __restrict m, int64_t n,
                float lr, float momentum, bool nesterov) {
  if (momentum == 0.0f) {
    for (int64_t i = 0; i < n; ++i) w[i] -= lr * g[i];
  } else if (nesterov) {
    for (int64_t i = 0; i < n; ++i) {
      const float mi = momentum * m[i] - lr * g[i];
      m[i] = mi;
      w[i] += momentum * mi - lr * g[i];
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const float mi = momentum * m[i] - lr * g[i];
      m[i] = mi;
      w[i] += mi;
    }
  }
}

// alpha = lr sqrt(1 - b2^t) / (1 - b1^t) comes from the caller (Keras folds the bias
// corrections into the step size).
void adam_update(float* __restrict w, const float* __restrict g, float* __restrict m,
                 float* __restrict v, float* __restrict vhat, int64_t n, float alpha, float b1,
                 float b2, float eps) {
  const float c1 = 1.0f - b1, c2 = 1.0f - b2;
  if (vhat == nullptr) {
    for (int64_t i = 0; i < n; ++i) {
      const float gi = g[i];
      const float mi = m[i] + (gi - m[i]) * c1;
      const float vi = v[i] + (gi * gi - v[i]) * c2;
      m[i] = mi;
      v[i] = vi;
      w[i] -= (mi * alpha) / (std::sqrt(vi) + eps);
    }
  } else {  // amsgrad: the denominator uses the running max of v
    for (int64_t i = 0; i < n; ++i) {
      const float gi = g[i];
      const float mi = m[i] + (gi - m[i]) * c1;
      const float vi = v[i] + (gi * gi - v[i]) * c2;
      const float vh = vhat[i] > vi ? vhat[i] : vi;
      m[i] = mi;
      v[i] = vi;
      vhat[i] = vh;
      w[i] -= (mi * alpha) / (std::sqrt(vh) + eps);
    }
  }
}

// One loop per (centered, momentum) combination; `if constexpr` keeps each loop branch-free.
template <bool kCentered, bool kMomentum>
void rmsprop_loop(float* __restrict w, const float* __restrict g, float* __restrict v,
                  float* __restrict mg, float* __restrict mom, int64_t n, float lr, float rho,
                  float momentum, float eps) {
  const float c = 1.0f - rho;
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float vi = rho * v[i] + c * (gi * gi);
    v[i] = vi;
    float denom;
    if constexpr (kCentered) {
      const float a = rho * mg[i] + c * gi;
      mg[i] = a;
      denom = vi - a * a + eps;
    } else {
      denom = vi + eps;
    }
    const float inc = (lr * gi) / std::sqrt(denom);
    if constexpr (kMomentum) {
      const float mi = momentum * mom[i] + inc;
      mom[i] = mi;
      w[i] -= mi;
    } else {
      w[i] -= inc;
    }
  }
}

void rmsprop_update(float* w, const float* g, float* v, float* mg, float* mom, int64_t n, float lr,
                    float rho, float momentum, float eps) {
  const bool centered = mg != nullptr, with_mom = mom != nullptr && momentum > 0.0f;
  auto* loop = centered ? (with_mom ? rmsprop_loop<true, true> : rmsprop_loop<true, false>)
                        : (with_mom ? rmsprop_loop<false, true> : rmsprop_loop<false, false>);
  loop(w, g, v, mg, mom, n, lr, rho, momentum, eps);
}

void adagrad_update(float* __restrict w, const float* __restrict g, float* __restrict acc,
                    int64_t n, float lr, float eps) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float a = acc[i] + gi * gi;
    acc[i] = a;
    w[i] -= (lr * gi) / std::sqrt(a + eps);
  }
}

void adadelta_update(float* __restrict w, const float* __restrict g, float* __restrict ag,
                     float* __restrict ad, int64_t n, float lr, float rho, float eps) {
  const float c = 1.0f - rho;
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float a = rho * ag[i] + c * (gi * gi);
    ag[i] = a;
    const float d = (-std::sqrt(ad[i] + eps) * gi) / std::sqrt(a + eps);
    ad[i] = rho * ad[i] + c * (d * d);
    w[i] += lr * d;
  }
}

// c_m, c_g, c_v carry Nadam's momentum schedule (u_t products) and v's bias correction.
void nadam_update(float* __restrict w, const float* __restrict g, float* __restrict m,
                  float* __restrict v, int64_t n, float lr, float b1, float b2, float c_m,
                  float c_g, float c_v, float eps) {
  const float c1 = 1.0f - b1, c2 = 1.0f - b2;
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float mi = m[i] + (gi - m[i]) * c1;
    const float vi = v[i] + (gi * gi - v[i]) * c2;
    m[i] = mi;
    v[i] = vi;
    const float mhat = c_m * mi + c_g * gi;
    const float vhat = vi * c_v;
    w[i] -= (mhat * lr) / (std::sqrt(vhat) + eps);
  }
}

// c1 = 1 - b1^t, Adamax's bias correction, folded into the denominator as Keras does.
void adamax_update(float* __restrict w, const float* __restrict g, float* __restrict m,
                   float* __restrict u, int64_t n, float lr, float b1, float b2, float c1,
                   float eps) {
  const float cm = 1.0f - b1;
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float mi = m[i] + (gi - m[i]) * cm;
    const float decayed = b2 * u[i], ag = std::fabs(gi);
    const float ui = decayed > ag ? decayed : ag;
    m[i] = mi;
    u[i] = ui;
    w[i] -= (lr * mi) / (c1 * (ui + eps));
  }
}

// The step's direction is the sign of the interpolation (0 where it is exactly 0, as
// ops.sign); the momentum is updated after, with its own rate b2.
void lion_update(float* __restrict w, const float* __restrict g, float* __restrict m, int64_t n,
                 float lr, float b1, float b2) {
  const float c1 = 1.0f - b1, c2 = 1.0f - b2;
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i], mi = m[i];
    const float d = mi * b1 + gi * c1;
    const float sign = static_cast<float>(d > 0.0f) - static_cast<float>(d < 0.0f);
    w[i] -= lr * sign;
    m[i] = mi * b2 + gi * c2;
  }
}

// How Ftrl raises the accumulator to -lr_power: Keras's default -0.5 is a square root (and
// vectorizes), 0 is a constant step; any other power goes through std::pow.
enum class FtrlPower { kSqrt, kOne, kPow };

template <FtrlPower kPower>
inline float ftrl_power(float x, float exponent) {
  if constexpr (kPower == FtrlPower::kSqrt) return std::sqrt(x);
  if constexpr (kPower == FtrlPower::kOne) return 1.0f;
  return std::pow(x, exponent);
}

template <FtrlPower kPower>
void ftrl_loop(float* __restrict w, const float* __restrict g, float* __restrict acc,
               float* __restrict lin, int64_t n, float lr, float lr_power, float l1, float two_l2,
               float shrink2) {
  const float exponent = -lr_power;
  const auto power = [exponent](float x) { return ftrl_power<kPower>(x, exponent); };
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i], wi = w[i], ai = acc[i];
    const float gs = gi + shrink2 * wi;
    const float na = ai + gi * gi;
    const float pn = power(na);
    const float li = lin[i] + (gs - ((pn - power(ai)) / lr) * wi);
    const float quadratic = pn / lr + two_l2;
    const float lo = li > -l1 ? li : -l1;
    const float clipped = lo < l1 ? lo : l1;
    lin[i] = li;
    acc[i] = na;
    w[i] = (clipped - li) / quadratic;
  }
}

void ftrl_update(float* w, const float* g, float* acc, float* lin, int64_t n, float lr,
                 float lr_power, float l1, float two_l2, float shrink2) {
  auto* loop = lr_power == -0.5f  ? ftrl_loop<FtrlPower::kSqrt>
               : lr_power == 0.0f ? ftrl_loop<FtrlPower::kOne>
                                  : ftrl_loop<FtrlPower::kPow>;
  loop(w, g, acc, lin, n, lr, lr_power, l1, two_l2, shrink2);
}

}  // namespace

void fill_optimizers(CpuKernels& t) {
  t.sgd_update = sgd_update;
  t.adam_update = adam_update;
  t.rmsprop_update = rmsprop_update;
  t.adagrad_update = adagrad_update;
  t.adadelta_update = adadelta_update;
  t.nadam_update = nadam_update;
  t.adamax_update = adamax_update;
  t.lion_update = lion_update;
  t.ftrl_update = ftrl_update;
}

}  // namespace kerasette::cpu::KS_ISA

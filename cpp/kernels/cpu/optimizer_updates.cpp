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

}  // namespace

void fill_optimizers(CpuKernels& t) {
  t.sgd_update = sgd_update;
  t.adam_update = adam_update;
  t.rmsprop_update = rmsprop_update;
  t.adagrad_update = adagrad_update;
  t.adadelta_update = adadelta_update;
  t.nadam_update = nadam_update;
}

}  // namespace kerasette::cpu::KS_ISA

// The elementwise losses, one element at a time: the value and its derivative with respect to the
// prediction. Written once for the CPU (nn/losses.cpp) and the GPU (kernels/cuda/losses.cu), so
// both compute Keras 3's formulas the same way. Clipping follows keras/src/losses/losses.py to the
// letter (epsilon 1e-7, on the sides Keras clips); the derivative of a clipped value is 0 outside
// the clip range, as TensorFlow's clip_by_value / maximum gradients are.
#pragma once
#include <cmath>
#include <type_traits>

#ifdef __CUDACC__
#define KS_HD __host__ __device__ __forceinline__
#else
#define KS_HD inline
#endif

namespace kerasette {

enum class ElementwiseLoss : int {
  MeanSquaredError = 0,
  MeanAbsoluteError,
  Huber,  // param: delta
  MeanAbsolutePercentageError,
  MeanSquaredLogarithmicError,
  Poisson,
  LogCosh,
  KLDivergence,  // summed over the last axis, not averaged
  Hinge,         // param: 1 when every target is 0 or 1 (mapped to -1/+1), else 0
  SquaredHinge,  // param: as Hinge
};

constexpr float kLossEpsilon = 1e-7f;  // Keras's backend.epsilon()

// Whether Keras sums this loss over the last axis (its per-row value) rather than averaging it.
KS_HD constexpr bool sums_last_axis(ElementwiseLoss k) {
  return k == ElementwiseLoss::KLDivergence;
}

// Whether the loss needs the batch-wide "targets are 0/1" flag as its param.
KS_HD constexpr bool uses_binary_flag(ElementwiseLoss k) {
  return k == ElementwiseLoss::Hinge || k == ElementwiseLoss::SquaredHinge;
}

template <ElementwiseLoss K>
KS_HD float elementwise_loss_value(float p, float t, float param, float* dl) {
  using L = ElementwiseLoss;
  constexpr float eps = kLossEpsilon;
  if constexpr (K == L::MeanSquaredError) {
    const float e = p - t;
    *dl = 2.0f * e;
    return e * e;
  } else if constexpr (K == L::MeanAbsoluteError) {
    const float e = p - t;
    *dl = e > 0 ? 1.0f : (e < 0 ? -1.0f : 0.0f);
    return fabsf(e);
  } else if constexpr (K == L::Huber) {
    const float e = p - t, a = fabsf(e);
    if (a <= param) {
      *dl = e;
      return 0.5f * e * e;
    }
    *dl = e > 0 ? param : -param;
    return param * a - 0.5f * param * param;
  } else if constexpr (K == L::MeanAbsolutePercentageError) {
    // 100 * |(t - p) / max(|t|, eps)|
    const float den = fmaxf(fabsf(t), eps), e = p - t;
    *dl = e > 0 ? 100.0f / den : (e < 0 ? -100.0f / den : 0.0f);
    return 100.0f * fabsf(e / den);
  } else if constexpr (K == L::MeanSquaredLogarithmicError) {
    // (log(max(p, eps) + 1) - log(max(t, eps) + 1))^2
    const float pc = fmaxf(p, eps);
    const float e = logf(pc + 1.0f) - logf(fmaxf(t, eps) + 1.0f);
    *dl = p >= eps ? 2.0f * e / (pc + 1.0f) : 0.0f;
    return e * e;
  } else if constexpr (K == L::Poisson) {
    // p - t log(p + eps): Keras does not clip p here.
    *dl = 1.0f - t / (p + eps);
    return p - t * logf(p + eps);
  } else if constexpr (K == L::LogCosh) {
    // Keras's x + softplus(-2x) - log 2, in the equal form |x| + log1p(exp(-2|x|)) - log 2.
    const float x = p - t, a = fabsf(x);
    *dl = tanhf(x);
    return a + log1pf(expf(-2.0f * a)) - 0.69314718055994531f;
  } else if constexpr (K == L::KLDivergence) {
    // yt log(yt / yp), both clipped to [eps, 1].
    const float yt = fminf(fmaxf(t, eps), 1.0f), yp = fminf(fmaxf(p, eps), 1.0f);
    *dl = (p >= eps && p <= 1.0f) ? -yt / yp : 0.0f;
    return yt * logf(yt / yp);
  } else if constexpr (K == L::Hinge || K == L::SquaredHinge) {
    const float y = param != 0.0f ? 2.0f * t - 1.0f : t;
    const float m = 1.0f - y * p;
    if (m <= 0.0f) {
      *dl = 0.0f;
      return 0.0f;
    }
    if constexpr (K == L::Hinge) {
      *dl = -y;
      return m;
    } else {
      *dl = -2.0f * y * m;
      return m * m;
    }
  }
}

// Calls f(std::integral_constant<ElementwiseLoss, K>{}) for the K equal to kind, so that a loop
// can be compiled once per loss with the formula inlined.
template <typename F>
inline void visit_elementwise_loss(ElementwiseLoss kind, F&& f) {
  using L = ElementwiseLoss;
  auto as = [&](auto k) { f(k); };
  switch (kind) {
    case L::MeanSquaredError:
      return as(std::integral_constant<L, L::MeanSquaredError>{});
    case L::MeanAbsoluteError:
      return as(std::integral_constant<L, L::MeanAbsoluteError>{});
    case L::Huber:
      return as(std::integral_constant<L, L::Huber>{});
    case L::MeanAbsolutePercentageError:
      return as(std::integral_constant<L, L::MeanAbsolutePercentageError>{});
    case L::MeanSquaredLogarithmicError:
      return as(std::integral_constant<L, L::MeanSquaredLogarithmicError>{});
    case L::Poisson:
      return as(std::integral_constant<L, L::Poisson>{});
    case L::LogCosh:
      return as(std::integral_constant<L, L::LogCosh>{});
    case L::KLDivergence:
      return as(std::integral_constant<L, L::KLDivergence>{});
    case L::Hinge:
      return as(std::integral_constant<L, L::Hinge>{});
    case L::SquaredHinge:
      return as(std::integral_constant<L, L::SquaredHinge>{});
  }
}

}  // namespace kerasette

// Fused optimizer updates on the GPU: one grid-stride kernel per optimizer, every option decided
// before the launch. The arithmetic is the CPU's (kernels/cpu/optimizer_updates.cpp), operation
// by operation, i.e. Keras 3's update formulas.
#include "kernels/cuda/device_common.cuh"

namespace kerasette::cuda {
namespace {

__global__ void sgd_kernel(float* __restrict__ w, const float* __restrict__ g, float* __restrict__ m,
                           int64_t n, float lr, float momentum, bool nesterov) {
  KS_GRID_STRIDE(i, n) {
    if (m == nullptr) {
      w[i] -= lr * g[i];
    } else {
      const float mi = momentum * m[i] - lr * g[i];
      m[i] = mi;
      w[i] += nesterov ? momentum * mi - lr * g[i] : mi;
    }
  }
}

__global__ void adam_kernel(float* __restrict__ w, const float* __restrict__ g,
                            float* __restrict__ m, float* __restrict__ v, float* __restrict__ vhat,
                            int64_t n, float alpha, float b1, float b2, float eps) {
  const float c1 = 1.0f - b1, c2 = 1.0f - b2;
  KS_GRID_STRIDE(i, n) {
    const float gi = g[i];
    const float mi = m[i] + (gi - m[i]) * c1;
    const float vi = v[i] + (gi * gi - v[i]) * c2;
    m[i] = mi;
    v[i] = vi;
    float denom_v = vi;
    if (vhat) {  // amsgrad: the running max of v
      denom_v = vhat[i] > vi ? vhat[i] : vi;
      vhat[i] = denom_v;
    }
    w[i] -= (mi * alpha) / (sqrtf(denom_v) + eps);
  }
}

__global__ void rmsprop_kernel(float* __restrict__ w, const float* __restrict__ g,
                               float* __restrict__ v, float* __restrict__ mg,
                               float* __restrict__ mom, int64_t n, float lr, float rho,
                               float momentum, float eps) {
  const float c = 1.0f - rho;
  KS_GRID_STRIDE(i, n) {
    const float gi = g[i];
    const float vi = rho * v[i] + c * (gi * gi);
    v[i] = vi;
    float denom;
    if (mg) {
      const float a = rho * mg[i] + c * gi;
      mg[i] = a;
      denom = vi - a * a + eps;
    } else {
      denom = vi + eps;
    }
    const float inc = (lr * gi) / sqrtf(denom);
    if (mom) {
      const float mi = momentum * mom[i] + inc;
      mom[i] = mi;
      w[i] -= mi;
    } else {
      w[i] -= inc;
    }
  }
}

__global__ void adagrad_kernel(float* __restrict__ w, const float* __restrict__ g,
                               float* __restrict__ acc, int64_t n, float lr, float eps) {
  KS_GRID_STRIDE(i, n) {
    const float gi = g[i];
    const float a = acc[i] + gi * gi;
    acc[i] = a;
    w[i] -= (lr * gi) / sqrtf(a + eps);
  }
}

__global__ void adadelta_kernel(float* __restrict__ w, const float* __restrict__ g,
                                float* __restrict__ ag, float* __restrict__ ad, int64_t n,
                                float lr, float rho, float eps) {
  const float c = 1.0f - rho;
  KS_GRID_STRIDE(i, n) {
    const float gi = g[i];
    const float a = rho * ag[i] + c * (gi * gi);
    ag[i] = a;
    const float d = (-sqrtf(ad[i] + eps) * gi) / sqrtf(a + eps);
    ad[i] = rho * ad[i] + c * (d * d);
    w[i] += lr * d;
  }
}

__global__ void nadam_kernel(float* __restrict__ w, const float* __restrict__ g,
                             float* __restrict__ m, float* __restrict__ v, int64_t n, float lr,
                             float b1, float b2, float c_m, float c_g, float c_v, float eps) {
  const float c1 = 1.0f - b1, c2 = 1.0f - b2;
  KS_GRID_STRIDE(i, n) {
    const float gi = g[i];
    const float mi = m[i] + (gi - m[i]) * c1;
    const float vi = v[i] + (gi * gi - v[i]) * c2;
    m[i] = mi;
    v[i] = vi;
    const float mhat = c_m * mi + c_g * gi;
    const float vh = vi * c_v;
    w[i] -= (mhat * lr) / (sqrtf(vh) + eps);
  }
}

__global__ void adamax_kernel(float* __restrict__ w, const float* __restrict__ g,
                              float* __restrict__ m, float* __restrict__ u, int64_t n, float lr,
                              float b1, float b2, float c1, float eps) {
  const float cm = 1.0f - b1;
  KS_GRID_STRIDE(i, n) {
    const float gi = g[i];
    const float mi = m[i] + (gi - m[i]) * cm;
    const float decayed = b2 * u[i], ag = fabsf(gi);
    const float ui = decayed > ag ? decayed : ag;
    m[i] = mi;
    u[i] = ui;
    w[i] -= (lr * mi) / (c1 * (ui + eps));
  }
}

__global__ void lion_kernel(float* __restrict__ w, const float* __restrict__ g,
                            float* __restrict__ m, int64_t n, float lr, float b1, float b2) {
  const float c1 = 1.0f - b1, c2 = 1.0f - b2;
  KS_GRID_STRIDE(i, n) {
    const float gi = g[i], mi = m[i];
    const float d = mi * b1 + gi * c1;
    const float sign = static_cast<float>(d > 0.0f) - static_cast<float>(d < 0.0f);
    w[i] -= lr * sign;
    m[i] = mi * b2 + gi * c2;
  }
}

// power: 0 for Keras's default lr_power -0.5 (square root), 1 for lr_power 0, 2 for powf.
__device__ __forceinline__ float ftrl_power(float x, int power, float exponent) {
  if (power == 0) return sqrtf(x);
  if (power == 1) return 1.0f;
  return powf(x, exponent);
}

__global__ void ftrl_kernel(float* __restrict__ w, const float* __restrict__ g,
                            float* __restrict__ acc, float* __restrict__ lin, int64_t n, float lr,
                            int power, float exponent, float l1, float two_l2, float shrink2) {
  KS_GRID_STRIDE(i, n) {
    const float gi = g[i], wi = w[i], ai = acc[i];
    const float gs = gi + shrink2 * wi;
    const float na = ai + gi * gi;
    const float pn = ftrl_power(na, power, exponent);
    const float li = lin[i] + (gs - ((pn - ftrl_power(ai, power, exponent)) / lr) * wi);
    const float quadratic = pn / lr + two_l2;
    const float lo = li > -l1 ? li : -l1;
    const float clipped = lo < l1 ? lo : l1;
    lin[i] = li;
    acc[i] = na;
    w[i] = (clipped - li) / quadratic;
  }
}

}  // namespace

void sgd_update(float* w, const float* g, float* m, int64_t n, float lr, float momentum,
                bool nesterov) {
  if (n <= 0) return;
  sgd_kernel<<<grid_for(n), kThreads>>>(w, g, momentum == 0.0f ? nullptr : m, n, lr, momentum,
                                        nesterov);
  check_launch("sgd_update");
}
void adam_update(float* w, const float* g, float* m, float* v, float* vhat, int64_t n, float alpha,
                 float b1, float b2, float eps) {
  if (n <= 0) return;
  adam_kernel<<<grid_for(n), kThreads>>>(w, g, m, v, vhat, n, alpha, b1, b2, eps);
  check_launch("adam_update");
}
void rmsprop_update(float* w, const float* g, float* v, float* mg, float* mom, int64_t n, float lr,
                    float rho, float momentum, float eps) {
  if (n <= 0) return;
  rmsprop_kernel<<<grid_for(n), kThreads>>>(w, g, v, mg, momentum > 0.0f ? mom : nullptr, n, lr,
                                            rho, momentum, eps);
  check_launch("rmsprop_update");
}
void adagrad_update(float* w, const float* g, float* acc, int64_t n, float lr, float eps) {
  if (n <= 0) return;
  adagrad_kernel<<<grid_for(n), kThreads>>>(w, g, acc, n, lr, eps);
  check_launch("adagrad_update");
}
void adadelta_update(float* w, const float* g, float* ag, float* ad, int64_t n, float lr, float rho,
                     float eps) {
  if (n <= 0) return;
  adadelta_kernel<<<grid_for(n), kThreads>>>(w, g, ag, ad, n, lr, rho, eps);
  check_launch("adadelta_update");
}
void nadam_update(float* w, const float* g, float* m, float* v, int64_t n, float lr, float b1,
                  float b2, float c_m, float c_g, float c_v, float eps) {
  if (n <= 0) return;
  nadam_kernel<<<grid_for(n), kThreads>>>(w, g, m, v, n, lr, b1, b2, c_m, c_g, c_v, eps);
  check_launch("nadam_update");
}
void adamax_update(float* w, const float* g, float* m, float* u, int64_t n, float lr, float b1,
                   float b2, float c1, float eps) {
  if (n <= 0) return;
  adamax_kernel<<<grid_for(n), kThreads>>>(w, g, m, u, n, lr, b1, b2, c1, eps);
  check_launch("adamax_update");
}
void lion_update(float* w, const float* g, float* m, int64_t n, float lr, float b1, float b2) {
  if (n <= 0) return;
  lion_kernel<<<grid_for(n), kThreads>>>(w, g, m, n, lr, b1, b2);
  check_launch("lion_update");
}
void ftrl_update(float* w, const float* g, float* acc, float* lin, int64_t n, float lr,
                 float lr_power, float l1, float two_l2, float shrink2) {
  if (n <= 0) return;
  const int power = lr_power == -0.5f ? 0 : lr_power == 0.0f ? 1 : 2;
  ftrl_kernel<<<grid_for(n), kThreads>>>(w, g, acc, lin, n, lr, power, -lr_power, l1, two_l2,
                                         shrink2);
  check_launch("ftrl_update");
}

}  // namespace kerasette::cuda

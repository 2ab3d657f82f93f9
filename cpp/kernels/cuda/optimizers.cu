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

}  // namespace kerasette::cuda

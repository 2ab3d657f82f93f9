// Keras's ReLU layer (max_value, negative_slope, threshold), value and slope of one element. One
// definition, compiled for the CPU layer (nn/elementwise_layers.cpp) and, under nvcc, for the GPU
// kernels too, so that both devices place the kinks alike.
#pragma once

#ifdef __CUDACC__
#define KS_RELU_FN __host__ __device__ __forceinline__
#else
#define KS_RELU_FN inline
#endif

namespace kerasette {

struct ReluLayerKinks {
  float max_value, slope, threshold;
  bool leaky;  // Keras's leaky_relu shortcut: a slope, no threshold, no max_value
  bool relu6;  // Keras's relu6 shortcut: no threshold, max_value 6
};

// Keras: where(x > threshold, x, 0), clipped to max_value, minus slope * relu(threshold - x).
// Written as Keras's subtraction so that slope 0 gives +0 below the threshold (slope * (x - t)
// gave -0, printed "-0." by NumPy).
KS_RELU_FN float relu_layer_value(const ReluLayerKinks& k, float x) {
  return x > k.threshold ? (x < k.max_value ? x : k.max_value)
                         : 0.0f - k.slope * (k.threshold - x);
}

// dy/dx as Keras's ops give it at the kinks: 0 at x == threshold, 1 at x == max_value (clip keeps
// its bounds); leaky_relu is 1 at 0 (as the leaky_relu activation), relu6 is 0 at 6.
KS_RELU_FN float relu_layer_slope(const ReluLayerKinks& k, float x) {
  if (k.leaky) return x >= 0.0f ? 1.0f : k.slope;
  if (x < k.threshold) return k.slope;
  const bool below_max = x < k.max_value || (x == k.max_value && !k.relu6);
  return x > k.threshold && below_max ? 1.0f : 0.0f;
}

}  // namespace kerasette

// Winograd convolution for stride-1 3x3 and 5x5 kernels (one group): the output is cut into
// m x m tiles (m = 4 for 3x3, 2 for 5x5) read from 6 x 6 input patches, and the channel sums
// become 36 small GEMMs per block of tiles, 2.8x (5x5) to 4x (3x3) fewer multiply-adds than
// the direct sum. Tiles are independent and every output is the same fixed sequence of
// operations, so the result does not depend on the thread count. Rounding differs from the
// direct sum by a few float32 ulps of the products' magnitudes.
#pragma once
#include "ops/conv2d.h"

namespace kerasette {

// Stride 1, no dilation, one group, a square 3x3 or 5x5 kernel and enough channels on both sides
// (at least 16) for the transforms to pay for themselves.
bool winograd_applies(const Conv2dGeometry& g);

// y[batch, OH, OW, cout] = act(conv(x) + bias), bias may be null.
void conv2d_winograd(const Conv2dGeometry& g, const float* x, const float* kernel,
                     const float* bias, Act act, float alpha, float* y);

// dkernel (+)= the kernel gradient for output gradient dy, as F(r x r, m x m) on the same tiles:
// 36 GEMMs (cin x tiles) x (tiles x cout) summed over fixed chunks of tiles, the chunk sums added
// in chunk order, so the result does not depend on the thread count either.
void conv2d_winograd_weight(const Conv2dGeometry& g, const float* x, const float* dy,
                            float* dkernel, bool accumulate);

}  // namespace kerasette

// Activation rows quantised to int8 for the SIMD backends' integer dot products (cpu-avx2,
// cpu-neon): per 32-element block with a float scale (for Q8_0, Q4_0, Q4_K, Q6_K weights, as
// llama.cpp's Q8_0/Q8_K do), or per row with one absmax scale (ternary weights, exactly as
// backend.h specifies). The loops are written once over an `Isa` policy:
//   static float absmax(const float* x, int64_t n);
//   static int32_t round8(const float* x, float mul, int8_t* q);
// where round8 stores clamp(round-to-nearest-even(x[i] * mul), -128, 127) for 8 values and
// returns their sum. Templates only, instantiated with a policy private to its file: a file that
// enables an ISA with `#pragma GCC target` includes this after the pragma (and after everything
// this includes), so the policy inlines into the loops and nothing shared is built for that ISA.
#pragma once

#include <bitnet/backend.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tensor_access.hpp"

namespace bitnet::cpu_generic {

// Rows of x (F32 [k, n]) at batch (i2, i3): q [n][k], d [n][k/32] the block scales, s [n][k/32]
// the sums of each block's q.
template <class Isa>
void quantize_int8_blocks(const bitnet_tensor& x, int64_t i2, int64_t i3, std::vector<int8_t>& q,
                          std::vector<float>& d, std::vector<int32_t>& s) {
  const int64_t k = x.ne[0], n = x.ne[1], nb = k / 32;
  q.resize(static_cast<size_t>(n * k));
  d.resize(static_cast<size_t>(n * nb));
  s.resize(static_cast<size_t>(n * nb));
  for (int64_t r = 0; r < n; ++r) {
    const float* xr = f32_row(x, r, i2, i3);
    for (int64_t b = 0; b < nb; ++b) {
      const float scale = Isa::absmax(xr + 32 * b, 32) / 127;
      const float mul = scale ? 1 / scale : 0;
      int32_t sum = 0;
      for (int j = 0; j < 32; j += 8)
        sum += Isa::round8(xr + 32 * b + j, mul, q.data() + r * k + 32 * b + j);
      d[r * nb + b] = scale;
      s[r * nb + b] = sum;
    }
  }
}

// Rows of x (F32 [k, n]) at batch (i2, i3): q [n][k], amax [n] each row's absmax (floored at
// 1e-5), sums [n][k/256 + 1] the sums of q per 256 elements, then the row's total.
template <class Isa>
void quantize_int8_rows(const bitnet_tensor& x, int64_t i2, int64_t i3, std::vector<int8_t>& q,
                        std::vector<float>& amax, std::vector<int32_t>& sums) {
  const int64_t k = x.ne[0], n = x.ne[1];
  const int64_t stride = (k + 255) / 256 + 1;
  q.resize(static_cast<size_t>(n * k));
  amax.resize(static_cast<size_t>(n));
  sums.assign(static_cast<size_t>(n * stride), 0);
  for (int64_t r = 0; r < n; ++r) {
    const float* xr = f32_row(x, r, i2, i3);
    const float a = std::max(Isa::absmax(xr, k), 1e-5f);
    const float mul = 127.0f / a;
    int8_t* qr = q.data() + r * k;
    int32_t* sr = sums.data() + r * stride;
    int64_t i = 0;
    for (; i + 8 <= k; i += 8) {
      const int32_t sum = Isa::round8(xr + i, mul, qr + i);
      sr[i / 256] += sum;
      sr[stride - 1] += sum;
    }
    for (; i < k; ++i) {
      qr[i] = static_cast<int8_t>(std::clamp(std::nearbyint(xr[i] * mul), -128.0f, 127.0f));
      sr[i / 256] += qr[i];
      sr[stride - 1] += qr[i];
    }
    amax[r] = a;
  }
}

}  // namespace bitnet::cpu_generic

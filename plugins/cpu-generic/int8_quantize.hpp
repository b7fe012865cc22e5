// Activation rows quantised to int8 for the SIMD backends' integer dot products (cpu-avx2,
// cpu-neon): per 32-element block with a float scale (for Q8_0, Q4_0, Q4_K, Q6_K weights, as
// llama.cpp's Q8_0/Q8_K do), or per row with one absmax scale (ternary weights, exactly as
// backend.h specifies). The loops are written once over an `Isa` policy:
//   static float absmax(const float* x, int64_t n);
//   static int32_t round8(const float* x, float mul, int8_t* q);
// where round8 stores clamp(round-to-nearest-even(x[i] * mul), -128, 127) for 8 values and
// returns their sum. Templates and static functions only, the templates instantiated with a
// policy private to its file: a file that enables an ISA with `#pragma GCC target` includes this
// after the pragma (and after everything this includes), so the policy inlines into the loops
// and nothing shared is built for that ISA.
#pragma once

#include <bitnet/backend.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tensor_access.hpp"

namespace bitnet::cpu_generic {

// Rows of x (F32 [k, n]) at batch (i2, i3): q [n][k], d [n][k/32] the block scales, s [n][k/32]
// the sums of each block's q. The _range form fills rows [r_begin, r_end) of buffers already
// sized for all n (so threads can share them), the other sizes them and fills them all.
template <class Isa>
void quantize_int8_block_range(const bitnet_tensor& x, int64_t i2, int64_t i3, int64_t r_begin,
                               int64_t r_end, int8_t* q, float* d, int32_t* s) {
  const int64_t k = x.ne[0], nb = k / 32;
  for (int64_t r = r_begin; r < r_end; ++r) {
    const float* xr = f32_row(x, r, i2, i3);
    for (int64_t b = 0; b < nb; ++b) {
      const float scale = Isa::absmax(xr + 32 * b, 32) / 127;
      const float mul = scale ? 1 / scale : 0;
      int32_t sum = 0;
      for (int j = 0; j < 32; j += 8)
        sum += Isa::round8(xr + 32 * b + j, mul, q + r * k + 32 * b + j);
      d[r * nb + b] = scale;
      s[r * nb + b] = sum;
    }
  }
}

// Internal linkage (as the policies'), so no copy built for one ISA is shared with another file.
static inline void size_int8_blocks(const bitnet_tensor& x, std::vector<int8_t>& q,
                                    std::vector<float>& d, std::vector<int32_t>& s) {
  const int64_t k = x.ne[0], n = x.ne[1];
  q.resize(static_cast<size_t>(n * k));
  d.resize(static_cast<size_t>(n * (k / 32)));
  s.resize(static_cast<size_t>(n * (k / 32)));
}

template <class Isa>
void quantize_int8_blocks(const bitnet_tensor& x, int64_t i2, int64_t i3, std::vector<int8_t>& q,
                          std::vector<float>& d, std::vector<int32_t>& s) {
  size_int8_blocks(x, q, d, s);
  quantize_int8_block_range<Isa>(x, i2, i3, 0, x.ne[1], q.data(), d.data(), s.data());
}

// Rows of x (F32 [k, n]) at batch (i2, i3): q [n][k], amax [n] each row's absmax (floored at
// 1e-5), sums [n][k/256 + 1] the sums of q per 256 elements, then the row's total. The _range
// and size_ forms as for the blocks above.
template <class Isa>
void quantize_int8_row_range(const bitnet_tensor& x, int64_t i2, int64_t i3, int64_t r_begin,
                             int64_t r_end, int8_t* q, float* amax, int32_t* sums) {
  const int64_t k = x.ne[0];
  const int64_t stride = (k + 255) / 256 + 1;
  for (int64_t r = r_begin; r < r_end; ++r) {
    const float* xr = f32_row(x, r, i2, i3);
    const float a = std::max(Isa::absmax(xr, k), 1e-5f);
    const float mul = 127.0f / a;
    int8_t* qr = q + r * k;
    int32_t* sr = sums + r * stride;
    std::fill(sr, sr + stride, 0);
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

static inline void size_int8_rows(const bitnet_tensor& x, std::vector<int8_t>& q,
                                  std::vector<float>& amax, std::vector<int32_t>& sums) {
  const int64_t k = x.ne[0], n = x.ne[1];
  q.resize(static_cast<size_t>(n * k));
  amax.resize(static_cast<size_t>(n));
  sums.resize(static_cast<size_t>(n * ((k + 255) / 256 + 1)));
}

template <class Isa>
void quantize_int8_rows(const bitnet_tensor& x, int64_t i2, int64_t i3, std::vector<int8_t>& q,
                        std::vector<float>& amax, std::vector<int32_t>& sums) {
  size_int8_rows(x, q, amax, sums);
  quantize_int8_row_range<Isa>(x, i2, i3, 0, x.ne[1], q.data(), amax.data(), sums.data());
}

}  // namespace bitnet::cpu_generic

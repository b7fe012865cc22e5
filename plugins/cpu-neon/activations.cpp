#include "activations.hpp"

#include <arm_neon.h>

#include <algorithm>
#include <cmath>

#include "../cpu-generic/tensor_access.hpp"

namespace bitnet::cpu_neon {
namespace {

float absmax(const float* x, int64_t n) {
  float32x4_t m = vdupq_n_f32(0);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    m = vmaxq_f32(m, vabsq_f32(vld1q_f32(x + i)));
  float r = vmaxvq_f32(m);
  for (; i < n; ++i)
    r = std::max(r, std::fabs(x[i]));
  return r;
}

// q[i] = clamp(round-to-nearest-even(x[i] * mul)) for 8 values, as lrint and a clamp to int8
// would give; returns their sum.
int32_t round8(const float* x, float mul, int8_t* q) {
  const int32x4_t a = vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x), mul));
  const int32x4_t b = vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + 4), mul));
  const int8x8_t v = vqmovn_s16(vcombine_s16(vqmovn_s32(a), vqmovn_s32(b)));
  vst1_s8(q, v);
  return vaddlvq_s16(vmovl_s8(v));
}

int8_t round1(float x, float mul) {
  return static_cast<int8_t>(std::clamp<long>(std::lrint(x * mul), -128, 127));
}

}  // namespace

void quantize_blocks(const bitnet_tensor& x, int64_t i2, int64_t i3, BlockActs& out) {
  const int64_t k = x.ne[0], n = x.ne[1], nb = k / 32;
  out.q.resize(static_cast<size_t>(n * k));
  out.d.resize(static_cast<size_t>(n * nb));
  out.s.resize(static_cast<size_t>(n * nb));
  for (int64_t r = 0; r < n; ++r) {
    const float* xr = cpu_generic::f32_row(x, r, i2, i3);
    for (int64_t b = 0; b < nb; ++b) {
      const float d = absmax(xr + 32 * b, 32) / 127;
      const float mul = d ? 1 / d : 0;
      int32_t sum = 0;
      for (int j = 0; j < 32; j += 8)
        sum += round8(xr + 32 * b + j, mul, out.q.data() + r * k + 32 * b + j);
      out.d[r * nb + b] = d;
      out.s[r * nb + b] = sum;
    }
  }
}

void quantize_rows(const bitnet_tensor& x, int64_t i2, int64_t i3, RowActs& out) {
  const int64_t k = x.ne[0], n = x.ne[1];
  const int64_t stride = (k + 255) / 256 + 1;
  out.q.resize(static_cast<size_t>(n * k));
  out.amax.resize(static_cast<size_t>(n));
  out.sums.assign(static_cast<size_t>(n * stride), 0);
  for (int64_t r = 0; r < n; ++r) {
    const float* xr = cpu_generic::f32_row(x, r, i2, i3);
    const float a = std::max(absmax(xr, k), 1e-5f);
    const float mul = 127.0f / a;
    int8_t* q = out.q.data() + r * k;
    int32_t* sums = out.sums.data() + r * stride;
    int64_t i = 0;
    for (; i + 8 <= k; i += 8) {
      const int32_t s = round8(xr + i, mul, q + i);
      sums[i / 256] += s;
      sums[stride - 1] += s;
    }
    for (; i < k; ++i) {
      q[i] = round1(xr[i], mul);
      sums[i / 256] += q[i];
      sums[stride - 1] += q[i];
    }
    out.amax[r] = a;
  }
}

}  // namespace bitnet::cpu_neon

#include "activations.hpp"

#include <arm_neon.h>

#include <algorithm>
#include <cmath>

#include "../cpu-generic/int8_quantize.hpp"

namespace bitnet::cpu_neon {
namespace {

struct Neon {
  static float absmax(const float* x, int64_t n) {
    float32x4_t m = vdupq_n_f32(0);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
      m = vmaxq_f32(m, vabsq_f32(vld1q_f32(x + i)));
    float r = vmaxvq_f32(m);
    for (; i < n; ++i)
      r = std::max(r, std::fabs(x[i]));
    return r;
  }

  // vcvtnq rounds to nearest even, the two narrowings saturate to int8.
  static int32_t round8(const float* x, float mul, int8_t* q) {
    const int32x4_t a = vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x), mul));
    const int32x4_t b = vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + 4), mul));
    const int8x8_t v = vqmovn_s16(vcombine_s16(vqmovn_s32(a), vqmovn_s32(b)));
    vst1_s8(q, v);
    return vaddlvq_s16(vmovl_s8(v));
  }
};

}  // namespace

void quantize_blocks(const bitnet_tensor& x, int64_t i2, int64_t i3, BlockActs& out) {
  cpu_generic::quantize_int8_blocks<Neon>(x, i2, i3, out.q, out.d, out.s);
}

void quantize_rows(const bitnet_tensor& x, int64_t i2, int64_t i3, RowActs& out) {
  cpu_generic::quantize_int8_rows<Neon>(x, i2, i3, out.q, out.amax, out.sums);
}

}  // namespace bitnet::cpu_neon

// ADD, MUL, SCALE and CPY: one float operation per element, as cpu-generic's, so vectorising
// along the row changes no result.
#include <bitnet/sdk/half.hpp>

#include <cstring>

#include <immintrin.h>

#include "../cpu-generic/tensor_access.hpp"
#include "row_ops.hpp"
#include "row_ranges.hpp"

#pragma GCC target("avx2,fma,f16c")

namespace bitnet::cpu_avx2 {
namespace {

using cpu_generic::f32_row;

struct Add {
  static __m256 op(__m256 a, __m256 b) { return _mm256_add_ps(a, b); }
  static float op(float a, float b) { return a + b; }
};

struct Mul {
  static __m256 op(__m256 a, __m256 b) { return _mm256_mul_ps(a, b); }
  static float op(float a, float b) { return a * b; }
};

template <class Op>
void row_op(const float* x, const float* y, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, Op::op(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i)
    out[i] = Op::op(x[i], y[i]);
}

template <class Op>
void row_op_scalar(const float* x, float y, float* out, int64_t n) {
  const __m256 yv = _mm256_set1_ps(y);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, Op::op(_mm256_loadu_ps(x + i), yv));
  for (; i < n; ++i)
    out[i] = Op::op(x[i], y);
}

template <class Op>
void binary_rows(const bitnet_tensor& dst) {
  const bitnet_tensor& a = *dst.src[0];
  const bitnet_tensor& b = *dst.src[1];
  const int64_t n = dst.ne[0], period = b.ne[0];
  for_each_row(dst, [&](int64_t i1, int64_t i2, int64_t i3) {
    const float* x = f32_row(a, i1, i2, i3);
    const float* y = f32_row(b, i1 % b.ne[1], i2 % b.ne[2], i3 % b.ne[3]);
    float* out = f32_row(dst, i1, i2, i3);
    if (period == 1) return row_op_scalar<Op>(x, y[0], out, n);
    for (int64_t i = 0; i < n; i += period)
      row_op<Op>(x + i, y, out + i, period);
  });
}

// F16C rounds to nearest even as sdk::f32_to_fp16 does, but keeps a NaN's payload, which the
// reference replaces with the quiet NaN 0x7e00.
void to_fp16(const float* x, std::byte* out, int64_t n) {
  const __m128i quiet = _mm_set1_epi16(0x7e00), payload = _mm_set1_epi16(0x01ff);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    const __m128i nan16 =
        _mm_packs_epi32(_mm256_castsi256_si128(nan), _mm256_extracti128_si256(nan, 1));
    __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT);
    h = _mm_or_si128(_mm_andnot_si128(_mm_and_si128(nan16, payload), h),
                     _mm_and_si128(nan16, quiet));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i), h);
  }
  for (; i < n; ++i) {
    const uint16_t h = sdk::f32_to_fp16(x[i]);
    std::memcpy(out + 2 * i, &h, sizeof h);
  }
}

}  // namespace

void binary(const bitnet_tensor& dst, bool add) {
  if (add) return binary_rows<Add>(dst);
  binary_rows<Mul>(dst);
}

void scale(const bitnet_tensor& dst) {
  const float s = dst.op_params[0];
  for_each_row(dst, [&](int64_t i1, int64_t i2, int64_t i3) {
    row_op_scalar<Mul>(f32_row(*dst.src[0], i1, i2, i3), s, f32_row(dst, i1, i2, i3), dst.ne[0]);
  });
}

void cpy(const bitnet_tensor& dst) {
  const bool half = dst.type == BITNET_TYPE_F16;
  for_each_row(dst, [&](int64_t i1, int64_t i2, int64_t i3) {
    const float* x = f32_row(*dst.src[0], i1, i2, i3);
    std::byte* out = cpu_generic::row_ptr(dst, i1, i2, i3);
    if (half)
      to_fp16(x, out, dst.ne[0]);
    else
      std::memcpy(out, x, static_cast<size_t>(dst.ne[0]) * sizeof(float));
  });
}

}  // namespace bitnet::cpu_avx2

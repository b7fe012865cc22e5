// GLU with AVX2 in cpu-generic's double arithmetic, four elements per vector: ReLU squared is the
// reference's own operations, so equal to the bit; SiLU's exp is a vector one within an ulp of
// double, whose difference to libm's survives the final rounding to float only for values
// within about 1e-16 of halfway between two floats.
#include <cmath>

#include <immintrin.h>

#include "../cpu-generic/tensor_access.hpp"
#include "row_ops.hpp"
#include "row_ranges.hpp"

#pragma GCC target("avx2,fma,f16c")

namespace bitnet::cpu_avx2 {
namespace {

using cpu_generic::f32_row;

// e^t for t in double lanes. t = n ln2 + r with |r| <= ln2/2 (ln2 split in two, so r is exact to
// far below an ulp), e^r by its Taylor series to r^13 (the first term left out is below 1e-17),
// times 2^n assembled in the exponent bits. Below -40, e^t is under half an ulp of 1, so
// 1 + e^t is 1 as with libm's value; above 709 it is infinite (libm's overflows from 709.78, and
// below that SiLU's x / (1 + e^t) under 1e-304 still rounds to a float zero of the same sign).
__m256d exp_pd(__m256d t) {
  const __m256d lo = _mm256_set1_pd(-40.0), hi = _mm256_set1_pd(709.0);
  const __m256d tc = _mm256_min_pd(_mm256_max_pd(t, lo), hi);
  // Adding 1.5 * 2^52 rounds t / ln2 to an integer held in the low mantissa bits.
  const __m256d shifter = _mm256_set1_pd(0x1.8p52);
  const __m256d kd = _mm256_fmadd_pd(tc, _mm256_set1_pd(0x1.71547652b82fep0), shifter);
  const __m256d n = _mm256_sub_pd(kd, shifter);
  __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(0x1.62e42fefa39efp-1), tc);
  r = _mm256_fnmadd_pd(n, _mm256_set1_pd(0x1.abc9e3b39803fp-56), r);
  constexpr double kInvFactorial[] = {1.0 / 6227020800.0,
                                      1.0 / 479001600.0,
                                      1.0 / 39916800.0,
                                      1.0 / 3628800.0,
                                      1.0 / 362880.0,
                                      1.0 / 40320.0,
                                      1.0 / 5040.0,
                                      1.0 / 720.0,
                                      1.0 / 120.0,
                                      1.0 / 24.0,
                                      1.0 / 6.0,
                                      0.5,
                                      1.0,
                                      1.0};
  __m256d p = _mm256_set1_pd(kInvFactorial[0]);
  for (int i = 1; i < 14; ++i)
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(kInvFactorial[i]));
  const __m256i bits =
      _mm256_slli_epi64(_mm256_add_epi64(_mm256_castpd_si256(kd), _mm256_set1_epi64x(1023)), 52);
  __m256d e = _mm256_mul_pd(p, _mm256_castsi256_pd(bits));
  e = _mm256_andnot_pd(_mm256_cmp_pd(t, lo, _CMP_LT_OQ), e);
  return _mm256_blendv_pd(e, _mm256_set1_pd(HUGE_VAL), _mm256_cmp_pd(t, hi, _CMP_GT_OQ));
}

template <bool Silu>
__m256d act(__m256d x) {
  if constexpr (Silu)
    return _mm256_div_pd(
        x, _mm256_add_pd(_mm256_set1_pd(1.0), exp_pd(_mm256_sub_pd(_mm256_setzero_pd(), x))));
  // x > 0 ? x * x : 0, so that a NaN gives 0 as the reference's comparison does.
  return _mm256_and_pd(_mm256_mul_pd(x, x), _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_GT_OQ));
}

template <bool Silu>
void glu_row(const float* g, const float* u, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d a = act<Silu>(_mm256_cvtps_pd(_mm_loadu_ps(g + i)));
    _mm_storeu_ps(out + i, _mm256_cvtpd_ps(_mm256_mul_pd(a, _mm256_cvtps_pd(_mm_loadu_ps(u + i)))));
  }
  if (i == n) return;
  // The tail through the same vector code, so every element sees the same exp.
  alignas(16) float gt[4] = {}, ut[4] = {}, ot[4];
  for (int64_t j = i; j < n; ++j) {
    gt[j - i] = g[j];
    ut[j - i] = u[j];
  }
  glu_row<Silu>(gt, ut, ot, 4);
  for (int64_t j = i; j < n; ++j)
    out[j] = ot[j - i];
}

template <bool Silu>
void glu_rows(const bitnet_tensor& dst) {
  for_each_row(dst, [&](int64_t i1, int64_t i2, int64_t i3) {
    glu_row<Silu>(f32_row(*dst.src[0], i1, i2, i3), f32_row(*dst.src[1], i1, i2, i3),
                  f32_row(dst, i1, i2, i3), dst.ne[0]);
  });
}

}  // namespace

void glu(const bitnet_tensor& dst) {
  if (cpu_generic::int_param(dst, 0) == BITNET_GLU_SILU) return glu_rows<true>(dst);
  glu_rows<false>(dst);
}

}  // namespace bitnet::cpu_avx2

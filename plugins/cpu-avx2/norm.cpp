// RMS_NORM with AVX2, equal to cpu-generic's to the bit: the reference sums a row's squares in
// double one element after the other, an order that vectorising along the row would change, so
// the sums run across rows instead (one row per double lane, four rows to a vector, two vectors
// in flight), each lane adding its row's squares in the reference's order; the scaling is per
// element and vectorises along the row. A single row (decode) keeps the reference's serial sum.
#include <cmath>

#include <immintrin.h>

#include "../cpu-generic/tensor_access.hpp"
#include "row_ops.hpp"
#include "row_ranges.hpp"

#pragma GCC target("avx2,fma,f16c")

namespace bitnet::cpu_avx2 {
namespace {

using cpu_generic::f32_row;

// The sums of squares of the rows x[0..4G) over n elements. Squares of floats are exact in
// double, so each lane's add is the reference's add.
template <int G>
void sum_squares(const float* const* x, int64_t n, double* sums) {
  __m256d acc[G];
  for (int g = 0; g < G; ++g)
    acc[g] = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int g = 0; g < G; ++g) {
      const float* const* r = x + 4 * g;
      __m128 c0 = _mm_loadu_ps(r[0] + i), c1 = _mm_loadu_ps(r[1] + i);
      __m128 c2 = _mm_loadu_ps(r[2] + i), c3 = _mm_loadu_ps(r[3] + i);
      _MM_TRANSPOSE4_PS(c0, c1, c2, c3);  // c_j: element i + j of the four rows
      for (__m128 c : {c0, c1, c2, c3}) {
        const __m256d d = _mm256_cvtps_pd(c);
        acc[g] = _mm256_add_pd(acc[g], _mm256_mul_pd(d, d));
      }
    }
  for (int g = 0; g < G; ++g)
    _mm256_storeu_pd(sums + 4 * g, acc[g]);
  for (int r = 0; r < 4 * G; ++r)
    for (int64_t j = i; j < n; ++j)
      sums[r] += static_cast<double>(x[r][j]) * x[r][j];
}

double sum_squares_serial(const float* x, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += static_cast<double>(x[i]) * x[i];
  return sum;
}

// out = x * inv [* w], each product rounded to double as the reference's, then to float.
void scale_row(const float* x, double inv, const float* w, float* out, int64_t n) {
  const __m256d iv = _mm256_set1_pd(inv);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __m256d v = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), iv);
    if (w) v = _mm256_mul_pd(v, _mm256_cvtps_pd(_mm_loadu_ps(w + i)));
    _mm_storeu_ps(out + i, _mm256_cvtpd_ps(v));
  }
  for (; i < n; ++i)
    out[i] = static_cast<float>(x[i] * inv * (w ? w[i] : 1.0f));
}

}  // namespace

void rms_norm(const bitnet_tensor& dst) {
  const bitnet_tensor& src = *dst.src[0];
  const float* w = dst.src[1] ? f32_row(*dst.src[1], 0) : nullptr;
  const double eps = dst.op_params[0];
  const int64_t n = dst.ne[0];
  constexpr int kGroup = 8;
  for_row_ranges(dst, kGroup, [&](int64_t begin, int64_t end) {
    for (int64_t r0 = begin; r0 < end;) {
      const int rows = end - r0 >= 8 ? 8 : end - r0 >= 4 ? 4 : 1;
      const float* x[kGroup];
      float* out[kGroup];
      for (int r = 0; r < rows; ++r) {
        int64_t i1, i2, i3;
        cpu_generic::unflatten(dst, r0 + r, i1, i2, i3);
        x[r] = f32_row(src, i1, i2, i3);
        out[r] = f32_row(dst, i1, i2, i3);
      }
      double sums[kGroup];
      if (rows == 8)
        sum_squares<2>(x, n, sums);
      else if (rows == 4)
        sum_squares<1>(x, n, sums);
      else
        sums[0] = sum_squares_serial(x[0], n);
      for (int r = 0; r < rows; ++r)
        scale_row(x[r], 1.0 / std::sqrt(sums[r] / static_cast<double>(n) + eps), w, out[r], n);
      r0 += rows;
    }
  });
}

}  // namespace bitnet::cpu_avx2

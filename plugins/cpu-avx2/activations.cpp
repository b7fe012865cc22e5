#include "activations.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <immintrin.h>

#include "../cpu-generic/tensor_access.hpp"

#pragma GCC target("avx2,fma,f16c")

namespace bitnet::cpu_avx2 {
namespace {

float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

float absmax(const float* x, int64_t n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 m = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
  float r = hmax(m);
  for (; i < n; ++i)
    r = std::max(r, std::fabs(x[i]));
  return r;
}

// q[i] = clamp(nearbyint(x[i] * mul)) for 8 values; returns their sum.
int32_t round8(const float* x, __m256 mul, int8_t* q) {
  const __m256i r = _mm256_cvtps_epi32(
      _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x), mul), _MM_FROUND_TO_NEAREST_INT));
  alignas(32) int32_t v[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(v), r);
  int32_t sum = 0;
  for (int j = 0; j < 8; ++j) {
    q[j] = static_cast<int8_t>(std::clamp(v[j], -128, 127));
    sum += q[j];
  }
  return sum;
}

}  // namespace

void quantize_blocks(const bitnet_tensor& x, int64_t i2, int64_t i3, BlockActs& out) {
  const int64_t k = x.ne[0], n = x.ne[1], nb = k / 32;
  out.k = k;
  out.q.resize(static_cast<size_t>(n * k));
  out.d.resize(static_cast<size_t>(n * nb));
  out.s.resize(static_cast<size_t>(n * nb));
  for (int64_t r = 0; r < n; ++r) {
    const float* xr = cpu_generic::f32_row(x, r, i2, i3);
    for (int64_t b = 0; b < nb; ++b) {
      const float amax = absmax(xr + 32 * b, 32);
      const float d = amax / 127;
      const __m256 mul = _mm256_set1_ps(d ? 1 / d : 0);
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
  out.k = k;
  const int64_t nb = out.blocks() + 1;
  out.q.resize(static_cast<size_t>(n * k));
  out.amax.resize(static_cast<size_t>(n));
  out.sums.assign(static_cast<size_t>(n * nb), 0);
  for (int64_t r = 0; r < n; ++r) {
    const float* xr = cpu_generic::f32_row(x, r, i2, i3);
    const float a = std::max(absmax(xr, k), 1e-5f);
    const float mul = 127.0f / a;
    int8_t* q = out.q.data() + r * k;
    int32_t* sums = out.sums.data() + r * nb;
    int64_t i = 0;
    for (; i + 8 <= k; i += 8) {
      const int32_t s = round8(xr + i, _mm256_set1_ps(mul), q + i);
      sums[i / 256] += s;
      sums[nb - 1] += s;
    }
    for (; i < k; ++i) {
      q[i] = static_cast<int8_t>(std::clamp(std::nearbyint(xr[i] * mul), -128.0f, 127.0f));
      sums[i / 256] += q[i];
      sums[nb - 1] += q[i];
    }
    out.amax[r] = a;
  }
}

}  // namespace bitnet::cpu_avx2

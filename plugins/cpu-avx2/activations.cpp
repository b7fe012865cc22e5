#include "activations.hpp"

#include <algorithm>
#include <cmath>

#include <immintrin.h>

#include "../cpu-generic/tensor_access.hpp"

#pragma GCC target("avx2,fma,f16c")

// After the pragma, so the Avx2 policy inlines into the shared loops (only templates, and every
// header it includes is already in).
#include "../cpu-generic/int8_quantize.hpp"

namespace bitnet::cpu_avx2 {
namespace {

float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// The policy of int8_quantize.hpp.
struct Avx2 {
  static float absmax(const float* x, int64_t n) {
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

  static int32_t round8(const float* x, float mul, int8_t* q) {
    const __m256i r = _mm256_cvtps_epi32(_mm256_round_ps(
        _mm256_mul_ps(_mm256_loadu_ps(x), _mm256_set1_ps(mul)), _MM_FROUND_TO_NEAREST_INT));
    alignas(32) int32_t v[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(v), r);
    int32_t sum = 0;
    for (int j = 0; j < 8; ++j) {
      q[j] = static_cast<int8_t>(std::clamp(v[j], -128, 127));
      sum += q[j];
    }
    return sum;
  }
};

}  // namespace

void quantize_blocks(const bitnet_tensor& x, int64_t i2, int64_t i3, BlockActs& out) {
  out.k = x.ne[0];
  cpu_generic::quantize_int8_blocks<Avx2>(x, i2, i3, out.q, out.d, out.s);
}

#if BITNET_CPU_AVX512
void quantize_blocks_unsigned(const bitnet_tensor& x, int64_t i2, int64_t i3, BlockActs& out) {
  quantize_blocks(x, i2, i3, out);
  for (size_t i = 0; i < out.q.size(); i += 32) {
    auto* v = reinterpret_cast<__m256i*>(out.q.data() + i);
    _mm256_storeu_si256(v, _mm256_xor_si256(_mm256_loadu_si256(v), _mm256_set1_epi8(-128)));
  }
}
#endif

void quantize_rows(const bitnet_tensor& x, int64_t i2, int64_t i3, RowActs& out) {
  out.k = x.ne[0];
  cpu_generic::quantize_int8_rows<Avx2>(x, i2, i3, out.q, out.amax, out.sums);
}

}  // namespace bitnet::cpu_avx2

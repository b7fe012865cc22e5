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

#if BITNET_CPU_AVX512
// One row as quantize_int8_blocks computes it, so the values match quantize_blocks' exactly.
void quantize_block_row(const float* x, int64_t blocks, int8_t* q, float* d, int32_t* s) {
  for (int64_t b = 0; b < blocks; ++b) {
    const float scale = Avx2::absmax(x + 32 * b, 32) / 127;
    const float mul = scale ? 1 / scale : 0;
    int32_t sum = 0;
    for (int j = 0; j < 32; j += 8)
      sum += Avx2::round8(x + 32 * b + j, mul, q + 32 * b + j);
    d[b] = scale;
    s[b] = sum;
  }
}
#endif

}  // namespace

void quantize_blocks(const bitnet_tensor& x, int64_t i2, int64_t i3, BlockActs& out) {
  out.k = x.ne[0];
  cpu_generic::quantize_int8_blocks<Avx2>(x, i2, i3, out.q, out.d, out.s);
}

#if BITNET_CPU_AVX512
void quantize_blocks_unsigned(const bitnet_tensor& x, int64_t i2, int64_t i3, BlockActs& out) {
  const int64_t k = x.ne[0], nb = k / 32;
  const auto n = static_cast<size_t>(x.ne[1]);
  out.k = k;
  out.q.resize(n * static_cast<size_t>(k));
  out.d.resize(n * static_cast<size_t>(nb));
  out.s.resize(n * static_cast<size_t>(nb));
  sdk::plugin_host().parallel_for(0, n, cpu_generic::balanced_grain(n), [&](size_t b, size_t e) {
    for (auto r = static_cast<int64_t>(b); r < static_cast<int64_t>(e); ++r) {
      int8_t* q = out.q.data() + r * k;
      quantize_block_row(cpu_generic::f32_row(x, r, i2, i3), nb, q, out.d.data() + r * nb,
                         out.s.data() + r * nb);
      for (int64_t i = 0; i < k; ++i)
        q[i] = static_cast<int8_t>(static_cast<uint8_t>(q[i]) ^ 0x80);
    }
  });
}
#endif

void quantize_rows(const bitnet_tensor& x, int64_t i2, int64_t i3, RowActs& out) {
  out.k = x.ne[0];
  cpu_generic::quantize_int8_rows<Avx2>(x, i2, i3, out.q, out.amax, out.sums);
}

}  // namespace bitnet::cpu_avx2

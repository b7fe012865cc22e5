#include "activations.hpp"

#include <algorithm>
#include <cmath>

#include <immintrin.h>

#include "../cpu-generic/tensor_access.hpp"
#include "row_ranges.hpp"

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

  // Saturating packs clamp to [-128, 127] as the reference's clamp does, without leaving the
  // vector registers (a store and eight scalar clamps per call was the quantisation's cost).
  static int32_t round8(const float* x, float mul, int8_t* q) {
    const __m256i r = _mm256_cvtps_epi32(_mm256_round_ps(
        _mm256_mul_ps(_mm256_loadu_ps(x), _mm256_set1_ps(mul)), _MM_FROUND_TO_NEAREST_INT));
    const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    const __m128i b = _mm_packs_epi16(w, w);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(q), b);
    __m128i s = _mm_madd_epi16(_mm_cvtepi8_epi16(b), _mm_set1_epi16(1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
  }
};

// A prefill's rows in a few large ranges over the threads (an earlier split into a task per row
// measured slower than one thread); with `offset`, 128 added to every q.
void quantize_blocks(const bitnet_tensor& x, int64_t i2, int64_t i3, BlockActs& out, bool offset) {
  const int64_t k = x.ne[0];
  out.k = k;
  cpu_generic::size_int8_blocks(x, out.q, out.d, out.s);
  for_ranges(x.ne[1], k, 1, [&](int64_t begin, int64_t end) {
    cpu_generic::quantize_int8_block_range<Avx2>(x, i2, i3, begin, end, out.q.data(), out.d.data(),
                                                 out.s.data());
    if (!offset) return;
    for (int64_t i = begin * k; i < end * k; i += 32) {
      auto* v = reinterpret_cast<__m256i*>(out.q.data() + i);
      _mm256_storeu_si256(v, _mm256_xor_si256(_mm256_loadu_si256(v), _mm256_set1_epi8(-128)));
    }
  });
}

}  // namespace

void quantize_blocks(const bitnet_tensor& x, int64_t i2, int64_t i3, BlockActs& out) {
  quantize_blocks(x, i2, i3, out, false);
}

#if BITNET_CPU_AVX512
void quantize_blocks_unsigned(const bitnet_tensor& x, int64_t i2, int64_t i3, BlockActs& out) {
  quantize_blocks(x, i2, i3, out, true);
}
#endif

void quantize_rows(const bitnet_tensor& x, int64_t i2, int64_t i3, RowActs& out) {
  out.k = x.ne[0];
  cpu_generic::size_int8_rows(x, out.q, out.amax, out.sums);
  for_ranges(x.ne[1], x.ne[0], 1, [&](int64_t begin, int64_t end) {
    cpu_generic::quantize_int8_row_range<Avx2>(x, i2, i3, begin, end, out.q.data(), out.amax.data(),
                                               out.sums.data());
  });
}

}  // namespace bitnet::cpu_avx2

// Block-quantised weights (Q8_0, Q4_0, Q4_K, Q6_K) against int8 activations per 32 elements.
// Included after `#pragma GCC target("avx2,fma,f16c")`, which these inline functions need;
// internal linkage so a file compiled for another ISA never shares their machine code.
#pragma once

#include <bitnet/backend.h>

#include "activations.hpp"
#include "simd.hpp"

namespace bitnet::cpu_avx2 {
namespace {

// 32 int8 weights of a Q4_0 block: low nibbles are elements 0..15, high nibbles 16..31.
__m256i q4_0_unpack(const std::byte* qs) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i m = _mm_set1_epi8(15);
  const __m256i q = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), m), _mm_and_si128(b, m));
  return _mm256_sub_epi8(q, _mm256_set1_epi8(8));
}

// The weight type is a template parameter so the block size is a constant and the loop has
// no branch per block.
template <int32_t T, int R>
void dot_q8_q4(const std::byte* w, int64_t k, const BlockActs& a, int64_t n0, float* out) {
  __m256 acc[R];
  for (int r = 0; r < R; ++r)
    acc[r] = _mm256_setzero_ps();
  constexpr size_t bytes = T == BITNET_TYPE_Q8_0 ? 34 : 18;
  for (int64_t b = 0; b < k / 32; ++b, w += bytes) {
    const __m256i wq = T == BITNET_TYPE_Q8_0 ? load32(w + 2) : q4_0_unpack(w + 2);
    const float dw = fp16(w);
    for (int r = 0; r < R; ++r) {
      const __m256i p = dot_i8(wq, load32(a.row(n0 + r) + 32 * b));
      acc[r] =
          _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * a.scales(n0 + r)[b]), acc[r]);
    }
  }
  for (int r = 0; r < R; ++r)
    out[r] = hsum(acc[r]);
}

template <int R>
void dot_q4_k(const std::byte* w, int64_t k, const BlockActs& a, int64_t n0, float* out) {
  __m256 acc[R];
  float mins[R] = {};
  for (int r = 0; r < R; ++r)
    acc[r] = _mm256_setzero_ps();
  const __m256i lo = _mm256_set1_epi8(15);
  for (int64_t b = 0; b < k / 256; ++b, w += 144) {
    const float d = fp16(w), dmin = fp16(w + 2);
    const auto* sc = reinterpret_cast<const uint8_t*>(w + 4);
    for (int j = 0; j < 8; ++j) {
      const int scale = j < 4 ? sc[j] & 63 : (sc[j + 4] & 15) | ((sc[j - 4] >> 6) << 4);
      const int min = j < 4 ? sc[j + 4] & 63 : (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
      const __m256i bytes = load32(w + 16 + 32 * (j / 2));
      const __m256i q =
          j % 2 ? _mm256_and_si256(_mm256_srli_epi16(bytes, 4), lo) : _mm256_and_si256(bytes, lo);
      const int64_t blk = b * 8 + j;
      for (int r = 0; r < R; ++r) {
        const __m256i p = _mm256_madd_epi16(dot_u8_i16(q, load32(a.row(n0 + r) + 32 * blk)),
                                            _mm256_set1_epi16(1));
        const float dx = a.scales(n0 + r)[blk];
        acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d * scale * dx), acc[r]);
        mins[r] += dmin * min * dx * static_cast<float>(a.sums(n0 + r)[blk]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    out[r] = hsum(acc[r]) - mins[r];
}

template <int R>
void dot_q6_k(const std::byte* w, int64_t k, const BlockActs& a, int64_t n0, float* out) {
  __m256 acc[R];
  for (int r = 0; r < R; ++r)
    acc[r] = _mm256_setzero_ps();
  const __m256i lo4 = _mm256_set1_epi8(15), lo2 = _mm256_set1_epi8(3);
  for (int64_t b = 0; b < k / 256; ++b, w += 210) {
    const float d = fp16(w + 208);
    const auto* sc = reinterpret_cast<const int8_t*>(w + 192);
    for (int half = 0; half < 2; ++half) {
      const std::byte* ql = w + 64 * half;
      const __m256i qh = load32(w + 128 + 32 * half);
      for (int g = 0; g < 4; ++g) {
        const __m256i l4 = load32(ql + 32 * (g & 1));
        const __m256i nib =
            g >> 1 ? _mm256_and_si256(_mm256_srli_epi16(l4, 4), lo4) : _mm256_and_si256(l4, lo4);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), lo2);
        const __m256i q =
            _mm256_sub_epi8(_mm256_or_si256(nib, _mm256_slli_epi16(hi, 4)), _mm256_set1_epi8(32));
        const int s0 = sc[8 * half + 2 * g], s1 = sc[8 * half + 2 * g + 1];
        const __m256i scales = _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(s1)),
                                                _mm_set1_epi16(static_cast<int16_t>(s0)));
        const int64_t blk = b * 8 + half * 4 + g;
        for (int r = 0; r < R; ++r) {
          const __m256i x = load32(a.row(n0 + r) + 32 * blk);
          const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(x, q));
          const __m256i p = _mm256_madd_epi16(p16, scales);
          acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d * a.scales(n0 + r)[blk]),
                                   acc[r]);
        }
      }
    }
  }
  for (int r = 0; r < R; ++r)
    out[r] = hsum(acc[r]);
}

}  // namespace
}  // namespace bitnet::cpu_avx2

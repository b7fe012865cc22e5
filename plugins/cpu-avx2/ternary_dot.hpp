// Ternary weights (I2_S, TQ2_0) against int8 activations per row, by byte madd.
// Included after `#pragma GCC target("avx2,fma,f16c")`, which these inline functions need;
// internal linkage so a file compiled for another ISA never shares their machine code.
#pragma once

#include <algorithm>

#include "activations.hpp"
#include "simd.hpp"

namespace bitnet::cpu_avx2 {
namespace {

// I2_S: 128 elements in 32 bytes, element 32g+j of a block in byte j at shift 6-2g, code c
// meaning c-1; sum (c-1)*x = sum c*x - sum x.
template <int R>
void dot_i2_s(const std::byte* w, int64_t k, float scale, const RowActs& a, int64_t n0,
              float* out) {
  // A 16-bit lane gains at most 4 * 2 * 2 * 127 = 2032 per block (codes <= 2, |x| <= 127), so
  // runs of 16 blocks fit before the sums must widen to 32 bits.
  constexpr int64_t kWiden = 16;
  __m256i acc[R];
  const int8_t* x[R];
  for (int r = 0; r < R; ++r) {
    acc[r] = _mm256_setzero_si256();
    x[r] = a.row(n0 + r);
  }
  const __m256i m3 = _mm256_set1_epi8(3), ones = _mm256_set1_epi16(1);
  const int64_t blocks = k / 128;
  for (int64_t run = 0; run < blocks; run += kWiden) {
    __m256i part[R];
    for (int r = 0; r < R; ++r)
      part[r] = _mm256_setzero_si256();
    const int64_t end = std::min(blocks, run + kWiden);
    for (int64_t b = run; b < end; ++b) {
      const std::byte* wb = w + 32 * b;
      prefetch(wb + kPrefetchBytes);
      const __m256i bytes = load32(wb);
      const __m256i c0 = _mm256_and_si256(_mm256_srli_epi16(bytes, 6), m3);
      const __m256i c1 = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), m3);
      const __m256i c2 = _mm256_and_si256(_mm256_srli_epi16(bytes, 2), m3);
      const __m256i c3 = _mm256_and_si256(bytes, m3);
      for (int r = 0; r < R; ++r) {
        // Summed as a tree, so each block adds one step to the accumulator's dependency chain.
        const int8_t* xb = x[r] + 128 * b;
        const __m256i s01 =
            _mm256_add_epi16(dot_u8_i16(c0, load32(xb)), dot_u8_i16(c1, load32(xb + 32)));
        const __m256i s23 =
            _mm256_add_epi16(dot_u8_i16(c2, load32(xb + 64)), dot_u8_i16(c3, load32(xb + 96)));
        part[r] = _mm256_add_epi16(part[r], _mm256_add_epi16(s01, s23));
      }
    }
    for (int r = 0; r < R; ++r)
      acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(part[r], ones));
  }
  // The same double arithmetic as cpu-generic, so the two agree to the bit.
  for (int r = 0; r < R; ++r) {
    const int32_t dot = hsum_i32(acc[r]) - a.total(n0 + r);
    out[r] = static_cast<float>(static_cast<double>(scale) * dot * a.step(n0 + r));
  }
}

// TQ2_0: per 256 elements 64 bytes of codes, element 32*(4h+l)+m in byte 32h+m at shift 2l,
// then the fp16 block scale.
template <int R>
void dot_tq2_0(const std::byte* w, int64_t k, const RowActs& a, int64_t n0, float* out) {
  double acc[R] = {};
  const __m256i m3 = _mm256_set1_epi8(3), ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < k / 256; ++b, w += 66) {
    __m256i s[R];
    for (int r = 0; r < R; ++r)
      s[r] = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i bytes = load32(w + 32 * h);
      for (int l = 0; l < 4; ++l) {
        const __m256i c = _mm256_and_si256(_mm256_srli_epi16(bytes, 2 * l), m3);
        for (int r = 0; r < R; ++r)
          s[r] = _mm256_add_epi16(
              s[r], dot_u8_i16(c, load32(a.row(n0 + r) + 256 * b + 32 * (4 * h + l))));
      }
    }
    const double d = fp16(w + 64);
    for (int r = 0; r < R; ++r)
      acc[r] += d * static_cast<double>(hsum_i32(_mm256_madd_epi16(s[r], ones)) -
                                        a.block_sums(n0 + r)[b]);
  }
  for (int r = 0; r < R; ++r)
    out[r] = static_cast<float>(acc[r] * a.step(n0 + r));
}

}  // namespace
}  // namespace bitnet::cpu_avx2

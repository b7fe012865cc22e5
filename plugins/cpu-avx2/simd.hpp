// AVX2 building blocks of the matmul kernels: horizontal sums, fp16 loads, int8 dot products
// and the weight prefetch distance.
// Included after `#pragma GCC target("avx2,fma,f16c")`, which these inline functions need;
// internal linkage so a file compiled for another ISA never shares their machine code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <immintrin.h>

namespace bitnet::cpu_avx2 {
namespace {

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

float fp16(const std::byte* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// Sum of a[i] * b[i] over 32 signed bytes, as 8 int32 lanes.
__m256i dot_i8(__m256i a, __m256i b) {
  const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
  return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

// Sum of u[i] * s[i] (u unsigned, small) over 32 bytes, as 16 int16 lanes.
__m256i dot_u8_i16(__m256i u, __m256i s) {
  return _mm256_maddubs_epi16(u, s);
}

__m256i load32(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// Weights stream from memory once per token; asking for them this far ahead keeps more
// cache-line fills in flight than the hardware prefetcher alone does.
constexpr int64_t kPrefetchBytes = 1024;

void prefetch(const std::byte* p) {
  _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0);
}

int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

}  // namespace
}  // namespace bitnet::cpu_avx2

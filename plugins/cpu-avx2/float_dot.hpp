// Float weights (F32, F16, BF16) against float activations, by FMA.
// Included after `#pragma GCC target("avx2,fma,f16c")`, which these inline functions need;
// internal linkage so a file compiled for another ISA never shares their machine code.
#pragma once

#include <bitnet/backend.h>

#include "simd.hpp"

namespace bitnet::cpu_avx2 {
namespace {

template <int32_t T>
__m256 load_w8(const std::byte* w, int64_t i) {
  if constexpr (T == BITNET_TYPE_F16)
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 2 * i)));
  else if constexpr (T == BITNET_TYPE_BF16)
    return _mm256_castsi256_ps(_mm256_slli_epi32(
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 2 * i))), 16));
  else
    return _mm256_loadu_ps(reinterpret_cast<const float*>(w) + i);
}

template <int32_t T>
float load_w1(const std::byte* w, int64_t i) {
  if constexpr (T == BITNET_TYPE_F16) {
    return fp16(w + 2 * i);
  } else if constexpr (T == BITNET_TYPE_BF16) {
    uint32_t bits = 0;
    std::memcpy(reinterpret_cast<char*>(&bits) + 2, w + 2 * i, 2);
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  } else {
    float f;
    std::memcpy(&f, w + 4 * i, 4);
    return f;
  }
}

// Four independent accumulators per activation row: one FMA chain would wait on its own
// latency instead of on memory.
template <int32_t T, int R>
void dot_float(const std::byte* w, int64_t k, const float* const* x, float* out) {
  constexpr int U = 4;
  __m256 acc[R][U];
  for (int r = 0; r < R; ++r)
    for (int u = 0; u < U; ++u)
      acc[r][u] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 * U <= k; i += 8 * U) {
    constexpr int64_t bytes = T == BITNET_TYPE_F32 ? 4 : 2;
    for (int64_t line = 0; line < 8 * U * bytes; line += 64)
      prefetch(w + i * bytes + line + kPrefetchBytes);
    for (int u = 0; u < U; ++u) {
      const __m256 wv = load_w8<T>(w, i + 8 * u);
      for (int r = 0; r < R; ++r)
        acc[r][u] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x[r] + i + 8 * u), acc[r][u]);
    }
  }
  for (; i + 8 <= k; i += 8) {
    const __m256 wv = load_w8<T>(w, i);
    for (int r = 0; r < R; ++r)
      acc[r][0] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x[r] + i), acc[r][0]);
  }
  for (int r = 0; r < R; ++r) {
    out[r] = hsum(
        _mm256_add_ps(_mm256_add_ps(acc[r][0], acc[r][1]), _mm256_add_ps(acc[r][2], acc[r][3])));
    for (int64_t j = i; j < k; ++j)
      out[r] += load_w1<T>(w, j) * x[r][j];
  }
}

}  // namespace
}  // namespace bitnet::cpu_avx2

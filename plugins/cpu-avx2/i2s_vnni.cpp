#include "i2s_vnni.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include <immintrin.h>

#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")
// GCC 12's own 512-bit extract and insert intrinsics start from an undefined register, which
// its -Wuninitialized reports at every use of the 512-bit reductions and extracts.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "vnni_panel.hpp"

namespace bitnet::cpu_avx2 {
namespace {

constexpr int64_t kGroupStride = 4 * kActGroup;  // bytes from one activation dword to the next

// R activation rows of group x against the panel. I2_S byte j of a 128-element block holds
// elements j, j+32, j+64, j+96 at shifts 6, 4, 2, 0, so dword c of block b at shift 6 - 2s
// holds elements 128b + 32s + 4c .. +3: four consecutive activations, one broadcast.
template <int R>
void dot_rows(const uint32_t* words, int64_t k, const int8_t* x, const int32_t* totals,
              const double* steps, double scale, float* out) {
  __m512i acc[R];
  for (auto& v : acc)
    v = _mm512_setzero_si512();
  const __m512i m3 = _mm512_set1_epi8(3);
  for (int64_t b = 0; b < k / 128; ++b)
    for (int c = 0; c < 8; ++c) {
      const __m512i packed = _mm512_loadu_si512(words + (8 * b + c) * kPanelRows);
#pragma GCC unroll 4
      for (int s = 0; s < 4; ++s) {
        const __m512i codes = _mm512_and_si512(_mm512_srli_epi16(packed, 6 - 2 * s), m3);
        const int8_t* xs = x + (32 * b + 8 * s + c) * kGroupStride;
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
          int32_t v;
          std::memcpy(&v, xs + 4 * r, 4);
          acc[r] = _mm512_dpbusd_epi32(acc[r], codes, _mm512_set1_epi32(v));
        }
      }
    }
  // Codes mean c - 1: sum (c - 1) x = sum c x - total. Then scale * sum * step in double, in
  // cpu-generic's order.
  for (int r = 0; r < R; ++r) {
    const __m512i sum = _mm512_sub_epi32(acc[r], _mm512_set1_epi32(totals[r]));
    const __m512d sd = _mm512_set1_pd(scale), st = _mm512_set1_pd(steps[r]);
    const __m512d lo =
        _mm512_mul_pd(_mm512_mul_pd(sd, _mm512_cvtepi32_pd(_mm512_castsi512_si256(sum))), st);
    const __m512d hi =
        _mm512_mul_pd(_mm512_mul_pd(sd, _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(sum, 1))), st);
    _mm256_storeu_ps(out + r * kPanelRows, _mm512_cvtpd_ps(lo));
    _mm256_storeu_ps(out + r * kPanelRows + 8, _mm512_cvtpd_ps(hi));
  }
}

using DotFn = void (*)(const uint32_t*, int64_t, const int8_t*, const int32_t*, const double*,
                       double, float*);

template <size_t... I>
constexpr std::array<DotFn, sizeof...(I)> dot_table(std::index_sequence<I...>) {
  return {dot_rows<static_cast<int>(I) + 1>...};
}

constexpr auto kDot = dot_table(std::make_index_sequence<kActGroup>());

}  // namespace

void I2sPanel::pack(const std::byte* w, size_t stride, int rows, int64_t k) {
  k_ = k;
  const int64_t words = k / 16;  // a multiple of 8: I2_S rows are whole 128-element blocks
  words_.resize(static_cast<size_t>(words * kPanelRows));
  for (int64_t c0 = 0; c0 < words; c0 += 16) {
    const int n = static_cast<int>(std::min<int64_t>(16, words - c0));
    const auto live = static_cast<__mmask16>((1u << n) - 1);
    __m512i lines[16], cols[16];
    for (int i = 0; i < 16; ++i)
      lines[i] = i < rows ? _mm512_maskz_loadu_epi32(live, w + i * stride + 4 * c0)
                          : _mm512_setzero_si512();
    transpose16(lines, cols);
    for (int j = 0; j < n; ++j)
      _mm512_storeu_si512(words_.data() + (c0 + j) * kPanelRows, cols[j]);
  }
}

void I2sPanel::dot(const TernaryActs& a, int64_t g, int r_count, float scale, float* out) const {
  int32_t totals[kActGroup];
  for (int r = 0; r < r_count; ++r)
    totals[r] = a.total(g * kActGroup + r);
  kDot[static_cast<size_t>(r_count - 1)](words_.data(), k_, a.group(g), totals,
                                         a.step.data() + g * kActGroup, scale, out);
}

}  // namespace bitnet::cpu_avx2

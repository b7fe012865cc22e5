#include "tq2_vnni.hpp"

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

constexpr int64_t kBlockBytes = 66;  // 64 bytes of codes, then the fp16 scale
constexpr int64_t kGroupStride = 4 * kActGroup;

// R activation rows of group x against the panel. TQ2_0 byte 32h + m of a block holds element
// 128h + 32l + m at shift 2l, so dword 8h + c at shift 2l holds elements 128h + 32l + 4c .. +3.
// Each block's sums start at -sum x (codes mean c - 1) and go into double accumulators by one
// fused multiply-add: d * (S - X) is exact in double (an fp16 times an int below 2^24), so it
// rounds once, as cpu-generic's add does.
template <int R>
void dot_rows(const uint32_t* words, const double* scales, int64_t k, const int8_t* x,
              const int32_t* const* sums, const double* steps, float* out) {
  __m512d acc[R][2];
  for (auto& a : acc)
    a[0] = a[1] = _mm512_setzero_pd();
  const __m512i m3 = _mm512_set1_epi8(3);
  for (int64_t b = 0; b < k / 256; ++b) {
    __m512i s[R];
    for (int r = 0; r < R; ++r)
      s[r] = _mm512_set1_epi32(-sums[r][b]);
    for (int h = 0; h < 2; ++h)
      for (int c = 0; c < 8; ++c) {
        const __m512i packed = _mm512_loadu_si512(words + (16 * b + 8 * h + c) * kPanelRows);
#pragma GCC unroll 4
        for (int l = 0; l < 4; ++l) {
          const __m512i codes = _mm512_and_si512(_mm512_srli_epi16(packed, 2 * l), m3);
          const int8_t* xs = x + (64 * b + 32 * h + 8 * l + c) * kGroupStride;
#pragma GCC unroll 16
          for (int r = 0; r < R; ++r) {
            int32_t v;
            std::memcpy(&v, xs + 4 * r, 4);
            s[r] = _mm512_dpbusd_epi32(s[r], codes, _mm512_set1_epi32(v));
          }
        }
      }
    const __m512d d0 = _mm512_loadu_pd(scales + b * kPanelRows);
    const __m512d d1 = _mm512_loadu_pd(scales + b * kPanelRows + 8);
    for (int r = 0; r < R; ++r) {
      acc[r][0] = _mm512_fmadd_pd(d0, _mm512_cvtepi32_pd(_mm512_castsi512_si256(s[r])), acc[r][0]);
      acc[r][1] =
          _mm512_fmadd_pd(d1, _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(s[r], 1)), acc[r][1]);
    }
  }
  for (int r = 0; r < R; ++r) {
    const __m512d st = _mm512_set1_pd(steps[r]);
    _mm256_storeu_ps(out + r * kPanelRows, _mm512_cvtpd_ps(_mm512_mul_pd(acc[r][0], st)));
    _mm256_storeu_ps(out + r * kPanelRows + 8, _mm512_cvtpd_ps(_mm512_mul_pd(acc[r][1], st)));
  }
}

using DotFn = void (*)(const uint32_t*, const double*, int64_t, const int8_t*,
                       const int32_t* const*, const double*, float*);

template <size_t... I>
constexpr std::array<DotFn, sizeof...(I)> dot_table(std::index_sequence<I...>) {
  return {dot_rows<static_cast<int>(I) + 1>...};
}

constexpr auto kDot = dot_table(std::make_index_sequence<kActGroup>());

}  // namespace

void Tq2Panel::pack(const std::byte* w, size_t stride, int rows, int64_t k) {
  k_ = k;
  const int64_t blocks = k / 256;
  words_.resize(static_cast<size_t>(blocks * 16 * kPanelRows));
  scales_.assign(static_cast<size_t>(blocks * kPanelRows), 0);
  for (int64_t b = 0; b < blocks; ++b) {
    __m512i lines[16], cols[16];
    for (int i = 0; i < 16; ++i)
      lines[i] =
          i < rows ? _mm512_loadu_si512(w + i * stride + b * kBlockBytes) : _mm512_setzero_si512();
    transpose16(lines, cols);
    for (int c = 0; c < 16; ++c)
      _mm512_storeu_si512(words_.data() + (16 * b + c) * kPanelRows, cols[c]);
    for (int i = 0; i < rows; ++i) {
      uint16_t h;
      std::memcpy(&h, w + i * stride + b * kBlockBytes + 64, 2);
      scales_[static_cast<size_t>(b * kPanelRows + i)] = _cvtsh_ss(h);
    }
  }
}

void Tq2Panel::dot(const TernaryActs& a, int64_t g, int r_count, float* out) const {
  const int32_t* sums[kActGroup];
  for (int r = 0; r < r_count; ++r)
    sums[r] = a.block_sums(g * kActGroup + r);
  kDot[static_cast<size_t>(r_count - 1)](words_.data(), scales_.data(), k_, a.group(g), sums,
                                         a.step.data() + g * kActGroup, out);
}

}  // namespace bitnet::cpu_avx2

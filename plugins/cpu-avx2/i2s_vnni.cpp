#include "i2s_vnni.hpp"

#include <immintrin.h>

#include <vector>

#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")
// GCC 12's own 512-bit extract and insert intrinsics start from an undefined register, which
// its -Wuninitialized reports at every use of _mm512_reduce_add_epi32.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace bitnet::cpu_avx2 {
namespace {

// The codes of two blocks in a 64-byte load, group g (elements 32g.. of each block).
__m512i codes(__m512i bytes, int g) {
  return _mm512_and_si512(_mm512_srli_epi16(bytes, 6 - 2 * g), _mm512_set1_epi8(3));
}

int32_t reduce(__m512i v) {
  return _mm512_reduce_add_epi32(v);
}

// sum code * x over a lone last block (x in its own order).
int32_t tail_block(const std::byte* w, const int8_t* x) {
  const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
  __m256i s = _mm256_setzero_si256();
  for (int g = 0; g < 4; ++g)
    s = _mm256_dpbusd_epi32(
        s, _mm256_and_si256(_mm256_srli_epi16(bytes, 6 - 2 * g), _mm256_set1_epi8(3)),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 32 * g)));
  return reduce(_mm512_inserti64x4(_mm512_setzero_si512(), s, 0));
}

// The same double arithmetic as cpu-generic, so results agree to the bit.
float finish(int32_t sum, float scale, const RowActs& a, int64_t n) {
  return static_cast<float>(static_cast<double>(scale) * (sum - a.total(n)) * a.step(n));
}

// One weight row against R activation rows. One accumulator per (row, code group): four
// independent chains hide vpdpbusd's latency.
template <int R>
void dot(const std::byte* w, int64_t k, float scale, const RowActs& a, int64_t n0, float* out) {
  __m512i acc[R][4];
  for (int r = 0; r < R; ++r)
    for (int g = 0; g < 4; ++g)
      acc[r][g] = _mm512_setzero_si512();
  const int64_t pairs = k / 256;
  for (int64_t p = 0; p < pairs; ++p) {
    const __m512i bytes = _mm512_loadu_si512(w + 64 * p);
    const __m512i c[4] = {codes(bytes, 0), codes(bytes, 1), codes(bytes, 2), codes(bytes, 3)};
    for (int r = 0; r < R; ++r) {
      const int8_t* x = a.row(n0 + r) + 256 * p;
      for (int g = 0; g < 4; ++g)
        acc[r][g] = _mm512_dpbusd_epi32(acc[r][g], c[g], _mm512_loadu_si512(x + 64 * g));
    }
  }
  for (int r = 0; r < R; ++r) {
    int32_t sum = reduce(_mm512_add_epi32(_mm512_add_epi32(acc[r][0], acc[r][1]),
                                          _mm512_add_epi32(acc[r][2], acc[r][3])));
    if ((k / 128) % 2) sum += tail_block(w + 64 * pairs, a.row(n0 + r) + 256 * pairs);
    out[r] = finish(sum, scale, a, n0 + r);
  }
}

}  // namespace

void pair_blocks(RowActs& acts) {
  const int64_t k = acts.k, n = static_cast<int64_t>(acts.amax.size()), pairs = k / 256;
  std::vector<int8_t> out(acts.q.size());
  for (int64_t r = 0; r < n; ++r) {
    const int8_t* src = acts.q.data() + r * k;
    int8_t* dst = out.data() + r * k;
    for (int64_t p = 0; p < pairs; ++p)
      for (int g = 0; g < 4; ++g)
        for (int h = 0; h < 2; ++h)
          for (int j = 0; j < 32; ++j)
            dst[256 * p + 64 * g + 32 * h + j] = src[(2 * p + h) * 128 + 32 * g + j];
    for (int64_t i = 256 * pairs; i < k; ++i)
      dst[i] = src[i];
  }
  acts.q.swap(out);
}

void dot_i2_s_vnni(const std::byte* w, int64_t k, float scale, const RowActs& a, int64_t n0, int r,
                   float* out) {
  switch (r) {
    case 4:
      return dot<4>(w, k, scale, a, n0, out);
    case 3:
      return dot<3>(w, k, scale, a, n0, out);
    case 2:
      return dot<2>(w, k, scale, a, n0, out);
    default:
      return dot<1>(w, k, scale, a, n0, out);
  }
}

}  // namespace bitnet::cpu_avx2

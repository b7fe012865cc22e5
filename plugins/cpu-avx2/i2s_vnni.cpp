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

// W weight rows against R activation rows. One accumulator per (weight row, activation row)
// chains the four code groups (with too few pairs to hide vpdpbusd's latency that way, each
// group has its own), and each 64-byte activation load serves W weight rows: with one weight
// row per pass, prefill re-read every activation row from L2 for each weight row and ran at a
// quarter of vpdpbusd's rate.
template <int W, int R>
void tile(const std::byte* w, size_t stride, int64_t k, float scale, const RowActs& a, int64_t n0,
          float* out) {
  constexpr int G = W * R <= 4 ? 4 : 1;
  __m512i acc[W][R][G];
  for (int i = 0; i < W; ++i)
    for (int r = 0; r < R; ++r)
      for (int g = 0; g < G; ++g)
        acc[i][r][g] = _mm512_setzero_si512();
  const int8_t* x[R];
  for (int r = 0; r < R; ++r)
    x[r] = a.row(n0 + r);
  const int64_t pairs = k / 256;
  for (int64_t p = 0; p < pairs; ++p) {
    __m512i bytes[W];
    for (int i = 0; i < W; ++i)
      bytes[i] = _mm512_loadu_si512(w + i * stride + 64 * p);
    for (int g = 0; g < 4; ++g) {
      __m512i xs[R];
      for (int r = 0; r < R; ++r)
        xs[r] = _mm512_loadu_si512(x[r] + 256 * p + 64 * g);
      for (int i = 0; i < W; ++i) {
        const __m512i c = codes(bytes[i], g);
        for (int r = 0; r < R; ++r)
          acc[i][r][g % G] = _mm512_dpbusd_epi32(acc[i][r][g % G], c, xs[r]);
      }
    }
  }
  for (int i = 0; i < W; ++i)
    for (int r = 0; r < R; ++r) {
      __m512i total = acc[i][r][0];
      for (int g = 1; g < G; ++g)
        total = _mm512_add_epi32(total, acc[i][r][g]);
      int32_t sum = reduce(total);
      if ((k / 128) % 2) sum += tail_block(w + i * stride + 64 * pairs, x[r] + 256 * pairs);
      out[i * kTileRows + r] = finish(sum, scale, a, n0 + r);
    }
}

using TileFn = void (*)(const std::byte*, size_t, int64_t, float, const RowActs&, int64_t, float*);

template <int W>
constexpr TileFn tile_for(int r) {
  return r == 4 ? tile<W, 4> : r == 3 ? tile<W, 3> : r == 2 ? tile<W, 2> : tile<W, 1>;
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

void dot_i2_s_vnni(const std::byte* w, size_t stride, int w_rows, int64_t k, float scale,
                   const RowActs& a, int64_t n0, int r, float* out) {
  const TileFn fn = w_rows == 4   ? tile_for<4>(r)
                    : w_rows == 3 ? tile_for<3>(r)
                    : w_rows == 2 ? tile_for<2>(r)
                                  : tile_for<1>(r);
  fn(w, stride, k, scale, a, n0, out);
}

}  // namespace bitnet::cpu_avx2

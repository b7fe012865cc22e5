#include "tq2_vnni.hpp"

#include <immintrin.h>

#include <cstring>
#include <vector>

#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")
// GCC 12's own 512-bit extract and insert intrinsics start from an undefined register, which
// its -Wuninitialized reports at every use of _mm512_reduce_add_epi32.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace bitnet::cpu_avx2 {
namespace {

constexpr int64_t kBlockBytes = 66;  // 64 bytes of codes, then the fp16 scale

double block_scale(const std::byte* block) {
  uint16_t h;
  std::memcpy(&h, block + 64, 2);
  return _cvtsh_ss(h);
}

// W weight rows against R activation rows. Per block and (weight row, activation row) the four
// shifts chain into one accumulator, reduced to the block's integer sum; with a single pair
// each shift keeps its own accumulator so vpdpbusd's latency stays hidden.
template <int W, int R>
void tile(const std::byte* w, size_t stride, int64_t k, const RowActs& a, int64_t n0, float* out) {
  constexpr int G = W * R <= 2 ? 4 : 1;
  double acc[W][R] = {};
  const int8_t* x[R];
  const int32_t* sums[R];
  for (int r = 0; r < R; ++r) {
    x[r] = a.row(n0 + r);
    sums[r] = a.block_sums(n0 + r);
  }
  const __m512i m3 = _mm512_set1_epi8(3);
  for (int64_t b = 0; b < k / 256; ++b) {
    __m512i s[W][R][G];
    for (int i = 0; i < W; ++i)
      for (int r = 0; r < R; ++r)
        for (int g = 0; g < G; ++g)
          s[i][r][g] = _mm512_setzero_si512();
    __m512i bytes[W];
    for (int i = 0; i < W; ++i)
      bytes[i] = _mm512_loadu_si512(w + i * stride + kBlockBytes * b);
    for (int l = 0; l < 4; ++l) {
      __m512i xs[R];
      for (int r = 0; r < R; ++r)
        xs[r] = _mm512_loadu_si512(x[r] + 256 * b + 64 * l);
      for (int i = 0; i < W; ++i) {
        const __m512i c = _mm512_and_si512(_mm512_srli_epi16(bytes[i], 2 * l), m3);
        for (int r = 0; r < R; ++r)
          s[i][r][l % G] = _mm512_dpbusd_epi32(s[i][r][l % G], c, xs[r]);
      }
    }
    for (int i = 0; i < W; ++i) {
      const double d = block_scale(w + i * stride + kBlockBytes * b);
      for (int r = 0; r < R; ++r) {
        __m512i total = s[i][r][0];
        for (int g = 1; g < G; ++g)
          total = _mm512_add_epi32(total, s[i][r][g]);
        // Codes mean c - 1: sum (c - 1) x = sum c x - sum x.
        acc[i][r] += d * static_cast<double>(_mm512_reduce_add_epi32(total) - sums[r][b]);
      }
    }
  }
  for (int i = 0; i < W; ++i)
    for (int r = 0; r < R; ++r)
      out[i * kTileRows + r] = static_cast<float>(acc[i][r] * a.step(n0 + r));
}

// sum(v[j]) in lane j of one vector, for 16 vectors: three unpack-and-add levels in place of
// 16 separate reductions.
__m512i reduce16(const __m512i* v) {
  __m512i t[8], u[4];
  for (int p = 0; p < 8; ++p)
    t[p] = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * p], v[2 * p + 1]),
                            _mm512_unpackhi_epi32(v[2 * p], v[2 * p + 1]));
  for (int p = 0; p < 4; ++p)
    u[p] = _mm512_add_epi32(_mm512_unpacklo_epi64(t[2 * p], t[2 * p + 1]),
                            _mm512_unpackhi_epi64(t[2 * p], t[2 * p + 1]));
  // Each 128-bit lane of u[p] now holds per-lane sums of v[4p..4p+3]; add the four lanes.
  const __m512i w0 = _mm512_add_epi32(_mm512_shuffle_i32x4(u[0], u[1], 0x88),
                                      _mm512_shuffle_i32x4(u[0], u[1], 0xdd));
  const __m512i w1 = _mm512_add_epi32(_mm512_shuffle_i32x4(u[2], u[3], 0x88),
                                      _mm512_shuffle_i32x4(u[2], u[3], 0xdd));
  return _mm512_add_epi32(_mm512_shuffle_i32x4(w0, w1, 0x88), _mm512_shuffle_i32x4(w0, w1, 0xdd));
}

// The full 4 x 4 tile, its 16 block sums reduced together and scaled in double lanes: lane
// i * 4 + r holds (weight row i, activation row r). d * (S - X) is exact in double (an fp16 times
// an int below 2^24), so the fused multiply-add rounds once, as cpu-generic's add does.
void tile4x4(const std::byte* w, size_t stride, int64_t k, const RowActs& a, int64_t n0,
             float* out) {
  __m512d acc_lo = _mm512_setzero_pd(), acc_hi = _mm512_setzero_pd();
  const int8_t* x[4];
  const int32_t* sums[4];
  for (int r = 0; r < 4; ++r) {
    x[r] = a.row(n0 + r);
    sums[r] = a.block_sums(n0 + r);
  }
  const __m512i m3 = _mm512_set1_epi8(3);
  for (int64_t b = 0; b < k / 256; ++b) {
    __m512i s[16];
    for (__m512i& v : s)
      v = _mm512_setzero_si512();
    __m512i bytes[4];
    double d[4];
    for (int i = 0; i < 4; ++i) {
      bytes[i] = _mm512_loadu_si512(w + i * stride + kBlockBytes * b);
      d[i] = block_scale(w + i * stride + kBlockBytes * b);
    }
    for (int l = 0; l < 4; ++l) {
      __m512i xs[4];
      for (int r = 0; r < 4; ++r)
        xs[r] = _mm512_loadu_si512(x[r] + 256 * b + 64 * l);
      for (int i = 0; i < 4; ++i) {
        const __m512i c = _mm512_and_si512(_mm512_srli_epi16(bytes[i], 2 * l), m3);
        for (int r = 0; r < 4; ++r)
          s[4 * i + r] = _mm512_dpbusd_epi32(s[4 * i + r], c, xs[r]);
      }
    }
    // Codes mean c - 1: sum (c - 1) x = sum c x - sum x.
    const __m512i sx = _mm512_sub_epi32(
        reduce16(s),
        _mm512_broadcast_i32x4(_mm_setr_epi32(sums[0][b], sums[1][b], sums[2][b], sums[3][b])));
    acc_lo = _mm512_fmadd_pd(_mm512_setr_pd(d[0], d[0], d[0], d[0], d[1], d[1], d[1], d[1]),
                             _mm512_cvtepi32_pd(_mm512_castsi512_si256(sx)), acc_lo);
    acc_hi = _mm512_fmadd_pd(_mm512_setr_pd(d[2], d[2], d[2], d[2], d[3], d[3], d[3], d[3]),
                             _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(sx, 1)), acc_hi);
  }
  double acc[16];
  _mm512_storeu_pd(acc, acc_lo);
  _mm512_storeu_pd(acc + 8, acc_hi);
  for (int i = 0; i < 4; ++i)
    for (int r = 0; r < 4; ++r)
      out[i * kTileRows + r] = static_cast<float>(acc[4 * i + r] * a.step(n0 + r));
}

using TileFn = void (*)(const std::byte*, size_t, int64_t, const RowActs&, int64_t, float*);

template <int W>
constexpr TileFn tile_for(int r) {
  if constexpr (W == 4)
    if (r == 4) return tile4x4;
  return r == 4 ? tile<W, 4> : r == 3 ? tile<W, 3> : r == 2 ? tile<W, 2> : tile<W, 1>;
}

}  // namespace

void pair_tq2_0_halves(RowActs& acts) {
  const int64_t k = acts.k, n = static_cast<int64_t>(acts.amax.size());
  std::vector<int8_t> out(acts.q.size());
  for (int64_t r = 0; r < n; ++r) {
    const int8_t* src = acts.q.data() + r * k;
    int8_t* dst = out.data() + r * k;
    for (int64_t b = 0; b < k / 256; ++b)
      for (int l = 0; l < 4; ++l)
        for (int h = 0; h < 2; ++h)
          std::memcpy(dst + 256 * b + 64 * l + 32 * h, src + 256 * b + 128 * h + 32 * l, 32);
  }
  acts.q.swap(out);
}

void dot_tq2_0_vnni(const std::byte* w, size_t stride, int w_rows, int64_t k, const RowActs& a,
                    int64_t n0, int r, float* out) {
  const TileFn fn = w_rows == 4   ? tile_for<4>(r)
                    : w_rows == 3 ? tile_for<3>(r)
                    : w_rows == 2 ? tile_for<2>(r)
                                  : tile_for<1>(r);
  fn(w, stride, k, a, n0, out);
}

}  // namespace bitnet::cpu_avx2

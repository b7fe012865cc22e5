#include "block_vnni.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")
// GCC 12's 512-bit intrinsics start some results from an undefined register, which its
// -Wmaybe-uninitialized reports at every use.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace bitnet::cpu_avx2 {
namespace {

constexpr int kLanes = 16;   // weight rows per tile, one per int32 lane
constexpr int kActRows = 8;  // activation rows per pass over a tile: their sums stay in registers
constexpr int kGroups = 8;   // 4-byte groups per 32-element block
constexpr size_t kBlockBytes = kGroups * kLanes * 4;

// kLanes weight rows as signed bytes, block by block (32 elements): group g (elements 4g..4g+3)
// of block b of row j at q[b * kBlockBytes + g * 64 + 4 * j]; the block's scale at
// d[b * kLanes + j], -128 * the sum of its weights at bias[b * kLanes + j] and, for Q4_K, the
// value its code 0 stands for, negated, at mins[b * kLanes + j].
struct Tile {
  std::vector<int8_t> storage;
  std::vector<float> d, mins;
  std::vector<int32_t> bias;
  int8_t* q = nullptr;

  void resize(int64_t blocks) {
    storage.resize(static_cast<size_t>(blocks) * kBlockBytes + 64);
    d.resize(static_cast<size_t>(blocks) * kLanes);
    mins.resize(static_cast<size_t>(blocks) * kLanes);
    bias.resize(static_cast<size_t>(blocks) * kLanes);
    const auto at = reinterpret_cast<uintptr_t>(storage.data());
    q = storage.data() + ((64 - at % 64) % 64);
  }
};

__m128i load16(const std::byte* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// The four dwords at p[j] + off of sixteen rows j, as out[h] holding dword h of row j in lane j.
void transpose16x4(const std::byte* const* p, int64_t off, __m512i* out) {
  __m512i a[4];
  for (int i = 0; i < 4; ++i) {
    // Lane L (128 bits) of a[i] is row i + 4L.
    a[i] = _mm512_castsi128_si512(load16(p[i] + off));
    for (int l = 1; l < 4; ++l)
      a[i] = _mm512_inserti32x4(a[i], load16(p[i + 4 * l] + off), l);
  }
  const __m512i t0 = _mm512_unpacklo_epi32(a[0], a[1]), t1 = _mm512_unpackhi_epi32(a[0], a[1]);
  const __m512i t2 = _mm512_unpacklo_epi32(a[2], a[3]), t3 = _mm512_unpackhi_epi32(a[2], a[3]);
  out[0] = _mm512_unpacklo_epi64(t0, t2);
  out[1] = _mm512_unpackhi_epi64(t0, t2);
  out[2] = _mm512_unpacklo_epi64(t1, t3);
  out[3] = _mm512_unpackhi_epi64(t1, t3);
}

// Block `blk` of the tile: its eight groups, and the bias from their sums (the activations come
// as x + 128: the bias takes 128 * the sum of the weights back off).
void put_block(Tile& t, int64_t blk, const __m512i* q) {
  auto* dst = reinterpret_cast<__m512i*>(t.q + blk * kBlockBytes);
  __m512i sum = _mm512_setzero_si512();
  for (int g = 0; g < kGroups; ++g) {
    dst[g] = q[g];
    sum = _mm512_dpbusd_epi32(sum, _mm512_set1_epi8(-128), q[g]);
  }
  _mm512_storeu_si512(t.bias.data() + blk * kLanes, _mm512_sub_epi32(_mm512_setzero_si512(), sum));
}

float fp16_at(const std::byte* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// Sixteen Q8_0 or Q4_0 weight rows p[j] into the tile (rows past the matrix point at zero
// blocks, whose scale 0 makes them zero).
void repack_q8_q4(int32_t type, const std::byte* const* p, int64_t blocks, Tile& t) {
  const int64_t bytes = type == BITNET_TYPE_Q8_0 ? 34 : 18;
  const __m512i low = _mm512_set1_epi8(15), eight = _mm512_set1_epi8(8);
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t at = b * bytes;
    for (int j = 0; j < kLanes; ++j)
      t.d[b * kLanes + j] = fp16_at(p[j] + at);
    __m512i q[kGroups];
    if (type == BITNET_TYPE_Q8_0) {
      transpose16x4(p, at + 2, q);
      transpose16x4(p, at + 18, q + 4);
    } else {
      __m512i v[4];
      transpose16x4(p, at + 2, v);
      for (int g = 0; g < 4; ++g) {
        q[g] = _mm512_sub_epi8(_mm512_and_si512(v[g], low), eight);
        q[g + 4] = _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(v[g], 4), low), eight);
      }
    }
    put_block(t, b, q);
  }
}

// Sixteen Q4_K weight rows: each 256-element block (d, dmin, twelve bytes of 6-bit scales and
// mins, then four 32-byte chunks whose low nibbles are one 32-element block and high nibbles
// the next) becomes eight tile blocks of codes 0..15, with d * scale and -dmin * min per lane.
void repack_q4_k(const std::byte* const* p, int64_t blocks, Tile& t) {
  const __m512i low = _mm512_set1_epi8(15);
  for (int64_t sb = 0; sb < blocks / 8; ++sb) {
    const int64_t at = sb * 144;
    for (int j = 0; j < kLanes; ++j) {
      const float d = fp16_at(p[j] + at), dmin = fp16_at(p[j] + at + 2);
      const auto* sc = reinterpret_cast<const uint8_t*>(p[j] + at + 4);
      for (int i = 0; i < 8; ++i) {
        const int scale = i < 4 ? sc[i] & 63 : (sc[i + 4] & 15) | ((sc[i - 4] >> 6) << 4);
        const int min = i < 4 ? sc[i + 4] & 63 : (sc[i + 4] >> 4) | ((sc[i] >> 6) << 4);
        t.d[(sb * 8 + i) * kLanes + j] = d * static_cast<float>(scale);
        t.mins[(sb * 8 + i) * kLanes + j] = -dmin * static_cast<float>(min);
      }
    }
    for (int c = 0; c < 4; ++c) {
      __m512i v[kGroups], lo[kGroups], hi[kGroups];
      transpose16x4(p, at + 16 + 32 * c, v);
      transpose16x4(p, at + 32 + 32 * c, v + 4);
      for (int g = 0; g < kGroups; ++g) {
        lo[g] = _mm512_and_si512(v[g], low);
        hi[g] = _mm512_and_si512(_mm512_srli_epi16(v[g], 4), low);
      }
      put_block(t, sb * 8 + 2 * c, lo);
      put_block(t, sb * 8 + 2 * c + 1, hi);
    }
  }
}

// Prefetches part `part` of `parts` of the weight rows the next tile repacks, so that their reads
// from memory overlap this tile's arithmetic: the repack's loads from sixteen rows otherwise
// wait on cache misses.
void prefetch_part(const std::byte* w, size_t stride, int rows, int64_t row_bytes, int64_t part,
                   int64_t parts) {
  const int64_t lines = (row_bytes + 63) / 64;
  const int64_t begin = lines * part / parts, end = lines * (part + 1) / parts;
  for (int j = 0; j < rows; ++j)
    for (int64_t l = begin; l < end; ++l)
      _mm_prefetch(reinterpret_cast<const char*>(w + j * stride + 64 * l), _MM_HINT_T1);
}

int32_t load_i32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// R activation rows from n0 (quantize_blocks_unsigned: x + 128) against a tile, into out[r][lane];
// Mins adds each block's code-0 value times the block's activation sum (Q4_K).
template <int R, bool Mins>
void tile(const Tile& t, int64_t blocks, const BlockActs& a, int64_t n0, float* const* out,
          __mmask16 mask) {
  __m512 acc[R];
  for (int r = 0; r < R; ++r)
    acc[r] = _mm512_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    const auto* q = reinterpret_cast<const __m512i*>(t.q + b * kBlockBytes);
    __m512i wq[kGroups];
    for (int g = 0; g < kGroups; ++g)
      wq[g] = _mm512_load_si512(q + g);
    const __m512 dw = _mm512_loadu_ps(t.d.data() + b * kLanes);
    const __m512i bias = _mm512_loadu_si512(t.bias.data() + b * kLanes);
    // Group-major, so that consecutive vpdpbusd are independent and the scheduler finds R
    // chains to overlap their latency.
    __m512i sum[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      sum[r] = bias;
#pragma GCC unroll 8
    for (int g = 0; g < kGroups; ++g)
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
        sum[r] = _mm512_dpbusd_epi32(
            sum[r], _mm512_set1_epi32(load_i32(a.row(n0 + r) + 32 * b + 4 * g)), wq[g]);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[r]),
                               _mm512_mul_ps(dw, _mm512_set1_ps(a.scales(n0 + r)[b])), acc[r]);
    if constexpr (Mins) {
      const __m512 mw = _mm512_loadu_ps(t.mins.data() + b * kLanes);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
        acc[r] = _mm512_fmadd_ps(
            mw, _mm512_set1_ps(a.scales(n0 + r)[b] * static_cast<float>(a.sums(n0 + r)[b])),
            acc[r]);
    }
  }
  for (int r = 0; r < R; ++r)
    _mm512_mask_storeu_ps(out[r], mask, acc[r]);
}

using TileFn = void (*)(const Tile&, int64_t, const BlockActs&, int64_t, float* const*, __mmask16);

template <bool Mins>
constexpr TileFn tile_for(int r) {
  constexpr TileFn fns[] = {tile<1, Mins>, tile<2, Mins>, tile<3, Mins>, tile<4, Mins>,
                            tile<5, Mins>, tile<6, Mins>, tile<7, Mins>, tile<8, Mins>};
  return fns[r - 1];
}

}  // namespace

void mul_mat_block_vnni(int32_t type, const std::byte* w, size_t stride, const BlockActs& a,
                        int64_t n_count, float* dst, size_t dst_stride, int64_t m_begin,
                        int64_t m_end) {
  const int64_t blocks = a.k / 32;
  const int64_t row_bytes = type == BITNET_TYPE_Q4_K   ? blocks / 8 * 144
                            : type == BITNET_TYPE_Q8_0 ? blocks * 34
                                                       : blocks * 18;
  const int64_t steps = (n_count + kActRows - 1) / kActRows;
  thread_local Tile t;
  t.resize(blocks);
  thread_local std::vector<std::byte> zeros;
  zeros.assign(static_cast<size_t>(row_bytes), std::byte{0});
  for (int64_t m = m_begin; m < m_end; m += kLanes) {
    const int rows = static_cast<int>(std::min<int64_t>(kLanes, m_end - m));
    const int next_rows = static_cast<int>(std::clamp<int64_t>(m_end - m - kLanes, 0, kLanes));
    const std::byte* wm = w + m * static_cast<int64_t>(stride);
    const std::byte* p[kLanes];
    for (int j = 0; j < kLanes; ++j)
      p[j] = j < rows ? wm + j * static_cast<int64_t>(stride) : zeros.data();
    if (type == BITNET_TYPE_Q4_K)
      repack_q4_k(p, blocks, t);
    else
      repack_q8_q4(type, p, blocks, t);
    const auto mask = static_cast<__mmask16>((1u << rows) - 1);
    for (int64_t n = 0; n < n_count; n += kActRows) {
      prefetch_part(wm + kLanes * stride, stride, next_rows, row_bytes, n / kActRows, steps);
      const int r = static_cast<int>(std::min<int64_t>(kActRows, n_count - n));
      float* out[kActRows];
      for (int i = 0; i < r; ++i)
        out[i] = reinterpret_cast<float*>(reinterpret_cast<std::byte*>(dst) +
                                          (n + i) * static_cast<int64_t>(dst_stride)) +
                 m;
      (type == BITNET_TYPE_Q4_K ? tile_for<true>(r) : tile_for<false>(r))(t, blocks, a, n, out,
                                                                          mask);
    }
  }
}

}  // namespace bitnet::cpu_avx2

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
// value its code 0 stands for, negated, at mins[b * kLanes + j]. Q6_K's blocks have a scale per
// half (elements 0..15, 16..31): d and bias then hold the first half's, d_hi and bias_hi the
// second's.
struct Tile {
  std::vector<int8_t> storage;
  std::vector<float> d, mins, d_hi;
  std::vector<int32_t> bias, bias_hi;
  int8_t* q = nullptr;

  void resize(int64_t blocks) {
    storage.resize(static_cast<size_t>(blocks) * kBlockBytes + 64);
    d.resize(static_cast<size_t>(blocks) * kLanes);
    mins.resize(static_cast<size_t>(blocks) * kLanes);
    d_hi.resize(static_cast<size_t>(blocks) * kLanes);
    bias_hi.resize(static_cast<size_t>(blocks) * kLanes);
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
// as x + 128: the bias takes 128 * the sum of the weights back off), per half with `halves`.
void put_block(Tile& t, int64_t blk, const __m512i* q, bool halves = false) {
  auto* dst = reinterpret_cast<__m512i*>(t.q + blk * kBlockBytes);
  const __m512i zero = _mm512_setzero_si512();
  __m512i sum[2] = {zero, zero};
  for (int g = 0; g < kGroups; ++g) {
    dst[g] = q[g];
    const int h = halves && g >= kGroups / 2;
    sum[h] = _mm512_dpbusd_epi32(sum[h], _mm512_set1_epi8(-128), q[g]);
  }
  _mm512_storeu_si512(t.bias.data() + blk * kLanes, _mm512_sub_epi32(zero, sum[0]));
  if (halves) _mm512_storeu_si512(t.bias_hi.data() + blk * kLanes, _mm512_sub_epi32(zero, sum[1]));
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

// Sixteen Q6_K weight rows: each 256-element block (128 bytes of low nibbles, 64 of high bit
// pairs, sixteen int8 scales, d) becomes eight tile blocks of codes - 32, with d * scale per
// half block and lane. Tile block 4h + g takes its low 4 bits from ql chunk 2h + (g & 1) (low
// nibbles for g < 2) and its high 2 from bits 2g of qh chunk h, as ggml lays them out.
void repack_q6_k(const std::byte* const* p, int64_t blocks, Tile& t) {
  const __m512i lo4 = _mm512_set1_epi8(15), lo2 = _mm512_set1_epi8(3);
  for (int64_t sb = 0; sb < blocks / 8; ++sb) {
    const int64_t at = sb * 210;
    for (int j = 0; j < kLanes; ++j) {
      const float d = fp16_at(p[j] + at + 208);
      const auto* sc = reinterpret_cast<const int8_t*>(p[j] + at + 192);
      for (int i = 0; i < 8; ++i) {
        t.d[(sb * 8 + i) * kLanes + j] = d * static_cast<float>(sc[2 * i]);
        t.d_hi[(sb * 8 + i) * kLanes + j] = d * static_cast<float>(sc[2 * i + 1]);
      }
    }
    for (int h = 0; h < 2; ++h) {
      __m512i ql[2][kGroups], qh[kGroups];
      for (int c = 0; c < 2; ++c) {
        transpose16x4(p, at + 64 * h + 32 * c, ql[c]);
        transpose16x4(p, at + 64 * h + 32 * c + 16, ql[c] + 4);
      }
      transpose16x4(p, at + 128 + 32 * h, qh);
      transpose16x4(p, at + 144 + 32 * h, qh + 4);
      for (int g = 0; g < 4; ++g) {
        __m512i q[kGroups];
        for (int i = 0; i < kGroups; ++i) {
          const __m512i l = ql[g & 1][i];
          const __m512i nib =
              g < 2 ? _mm512_and_si512(l, lo4) : _mm512_and_si512(_mm512_srli_epi16(l, 4), lo4);
          const __m512i top = _mm512_and_si512(_mm512_srli_epi16(qh[i], 2 * g), lo2);
          q[i] = _mm512_sub_epi8(_mm512_or_si512(nib, _mm512_slli_epi16(top, 4)),
                                 _mm512_set1_epi8(32));
        }
        put_block(t, sb * 8 + 4 * h + g, q, true);
      }
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

// How a tile's blocks scale: one scale per block (Q8_0, Q4_0), plus a min times the block's
// activation sum (Q4_K), or one scale per half block (Q6_K).
enum class Scales { kBlock, kMins, kHalves };

// R activation rows from n0 (quantize_blocks_unsigned: x + 128) against a tile, into out[r][lane].
template <int R, Scales S>
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
    constexpr int H = S == Scales::kHalves ? 2 : 1;
    __m512i sum[H][R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      sum[0][r] = bias;
      if constexpr (H == 2) sum[H - 1][r] = _mm512_loadu_si512(t.bias_hi.data() + b * kLanes);
    }
#pragma GCC unroll 8
    for (int g = 0; g < kGroups; ++g)
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        __m512i& s = sum[H == 2 && g >= kGroups / 2][r];
        s = _mm512_dpbusd_epi32(s, _mm512_set1_epi32(load_i32(a.row(n0 + r) + 32 * b + 4 * g)),
                                wq[g]);
      }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 dx = _mm512_set1_ps(a.scales(n0 + r)[b]);
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[0][r]), _mm512_mul_ps(dw, dx), acc[r]);
      if constexpr (H == 2) {
        const __m512 dw_hi = _mm512_loadu_ps(t.d_hi.data() + b * kLanes);
        acc[r] =
            _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[H - 1][r]), _mm512_mul_ps(dw_hi, dx), acc[r]);
      }
    }
    if constexpr (S == Scales::kMins) {
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

template <Scales S>
constexpr TileFn tile_for(int r) {
  constexpr TileFn fns[] = {tile<1, S>, tile<2, S>, tile<3, S>, tile<4, S>,
                            tile<5, S>, tile<6, S>, tile<7, S>, tile<8, S>};
  return fns[r - 1];
}

}  // namespace

void mul_mat_block_vnni(int32_t type, const std::byte* w, size_t stride, const BlockActs& a,
                        int64_t n_count, float* dst, size_t dst_stride, int64_t m_begin,
                        int64_t m_end) {
  const int64_t blocks = a.k / 32;
  const int64_t row_bytes = type == BITNET_TYPE_Q6_K   ? blocks / 8 * 210
                            : type == BITNET_TYPE_Q4_K ? blocks / 8 * 144
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
    if (type == BITNET_TYPE_Q6_K)
      repack_q6_k(p, blocks, t);
    else if (type == BITNET_TYPE_Q4_K)
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
      const TileFn fn = type == BITNET_TYPE_Q6_K   ? tile_for<Scales::kHalves>(r)
                        : type == BITNET_TYPE_Q4_K ? tile_for<Scales::kMins>(r)
                                                   : tile_for<Scales::kBlock>(r);
      fn(t, blocks, a, n, out, mask);
    }
  }
}

}  // namespace bitnet::cpu_avx2

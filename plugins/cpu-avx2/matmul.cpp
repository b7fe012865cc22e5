#include "matmul.hpp"

#include <bitnet/sdk/backend.hpp>
#include <bitnet/sdk/plugin.hpp>
#include <bitnet/sdk/types.hpp>

#include <algorithm>
#include <cstring>

#include <immintrin.h>

#include "../cpu-generic/tensor_access.hpp"
#include "../cpu-generic/weights.hpp"
#include "activations.hpp"
#if BITNET_CPU_AVX512
#include "i2s_vnni.hpp"
#include "tq2_vnni.hpp"
#endif

#pragma GCC target("avx2,fma,f16c")

namespace bitnet::cpu_avx2 {
namespace {

using cpu_generic::f32_row;
constexpr int kMaxRows = 4;  // activation rows per pass over a weight row

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

// ---- float weights -------------------------------------------------------------------------

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

// ---- block-quantised weights against BlockActs ---------------------------------------------

// 32 int8 weights of a Q4_0 block: low nibbles are elements 0..15, high nibbles 16..31.
__m256i q4_0_unpack(const std::byte* qs) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i m = _mm_set1_epi8(15);
  const __m256i q = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), m), _mm_and_si128(b, m));
  return _mm256_sub_epi8(q, _mm256_set1_epi8(8));
}

// The weight type is a template parameter so the block size is a constant and the loop has
// no branch per block.
template <int32_t T, int R>
void dot_q8_q4(const std::byte* w, int64_t k, const BlockActs& a, int64_t n0, float* out) {
  __m256 acc[R];
  for (int r = 0; r < R; ++r)
    acc[r] = _mm256_setzero_ps();
  constexpr size_t bytes = T == BITNET_TYPE_Q8_0 ? 34 : 18;
  for (int64_t b = 0; b < k / 32; ++b, w += bytes) {
    const __m256i wq = T == BITNET_TYPE_Q8_0 ? load32(w + 2) : q4_0_unpack(w + 2);
    const float dw = fp16(w);
    for (int r = 0; r < R; ++r) {
      const __m256i p = dot_i8(wq, load32(a.row(n0 + r) + 32 * b));
      acc[r] =
          _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * a.scales(n0 + r)[b]), acc[r]);
    }
  }
  for (int r = 0; r < R; ++r)
    out[r] = hsum(acc[r]);
}

template <int R>
void dot_q4_k(const std::byte* w, int64_t k, const BlockActs& a, int64_t n0, float* out) {
  __m256 acc[R];
  float mins[R] = {};
  for (int r = 0; r < R; ++r)
    acc[r] = _mm256_setzero_ps();
  const __m256i lo = _mm256_set1_epi8(15);
  for (int64_t b = 0; b < k / 256; ++b, w += 144) {
    const float d = fp16(w), dmin = fp16(w + 2);
    const auto* sc = reinterpret_cast<const uint8_t*>(w + 4);
    for (int j = 0; j < 8; ++j) {
      const int scale = j < 4 ? sc[j] & 63 : (sc[j + 4] & 15) | ((sc[j - 4] >> 6) << 4);
      const int min = j < 4 ? sc[j + 4] & 63 : (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
      const __m256i bytes = load32(w + 16 + 32 * (j / 2));
      const __m256i q =
          j % 2 ? _mm256_and_si256(_mm256_srli_epi16(bytes, 4), lo) : _mm256_and_si256(bytes, lo);
      const int64_t blk = b * 8 + j;
      for (int r = 0; r < R; ++r) {
        const __m256i p = _mm256_madd_epi16(dot_u8_i16(q, load32(a.row(n0 + r) + 32 * blk)),
                                            _mm256_set1_epi16(1));
        const float dx = a.scales(n0 + r)[blk];
        acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d * scale * dx), acc[r]);
        mins[r] += dmin * min * dx * static_cast<float>(a.sums(n0 + r)[blk]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    out[r] = hsum(acc[r]) - mins[r];
}

template <int R>
void dot_q6_k(const std::byte* w, int64_t k, const BlockActs& a, int64_t n0, float* out) {
  __m256 acc[R];
  for (int r = 0; r < R; ++r)
    acc[r] = _mm256_setzero_ps();
  const __m256i lo4 = _mm256_set1_epi8(15), lo2 = _mm256_set1_epi8(3);
  for (int64_t b = 0; b < k / 256; ++b, w += 210) {
    const float d = fp16(w + 208);
    const auto* sc = reinterpret_cast<const int8_t*>(w + 192);
    for (int half = 0; half < 2; ++half) {
      const std::byte* ql = w + 64 * half;
      const __m256i qh = load32(w + 128 + 32 * half);
      for (int g = 0; g < 4; ++g) {
        const __m256i l4 = load32(ql + 32 * (g & 1));
        const __m256i nib =
            g >> 1 ? _mm256_and_si256(_mm256_srli_epi16(l4, 4), lo4) : _mm256_and_si256(l4, lo4);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), lo2);
        const __m256i q =
            _mm256_sub_epi8(_mm256_or_si256(nib, _mm256_slli_epi16(hi, 4)), _mm256_set1_epi8(32));
        const int s0 = sc[8 * half + 2 * g], s1 = sc[8 * half + 2 * g + 1];
        const __m256i scales = _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(s1)),
                                                _mm_set1_epi16(static_cast<int16_t>(s0)));
        const int64_t blk = b * 8 + half * 4 + g;
        for (int r = 0; r < R; ++r) {
          const __m256i x = load32(a.row(n0 + r) + 32 * blk);
          const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(x, q));
          const __m256i p = _mm256_madd_epi16(p16, scales);
          acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d * a.scales(n0 + r)[blk]),
                                   acc[r]);
        }
      }
    }
  }
  for (int r = 0; r < R; ++r)
    out[r] = hsum(acc[r]);
}

// ---- ternary weights against RowActs -------------------------------------------------------

int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

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

// ---- driver --------------------------------------------------------------------------------

struct Job {
  const bitnet_tensor* dst;
  const bitnet_tensor* w;
  const bitnet_tensor* x;
  int64_t i2, i3;
  const std::byte* w_rows;  // row 0 of the weight matrix this batch multiplies
  BlockActs blocks;
  RowActs rows;
  float i2s_scale = 0;
};

template <int R>
void dot_rows(const Job& j, const std::byte* wr, int64_t n0, float* out) {
  const int64_t k = j.w->ne[0];
  switch (j.w->type) {
    case BITNET_TYPE_Q8_0:
      return dot_q8_q4<BITNET_TYPE_Q8_0, R>(wr, k, j.blocks, n0, out);
    case BITNET_TYPE_Q4_0:
      return dot_q8_q4<BITNET_TYPE_Q4_0, R>(wr, k, j.blocks, n0, out);
    case BITNET_TYPE_Q4_K:
      return dot_q4_k<R>(wr, k, j.blocks, n0, out);
    case BITNET_TYPE_Q6_K:
      return dot_q6_k<R>(wr, k, j.blocks, n0, out);
    case BITNET_TYPE_I2_S:
      return dot_i2_s<R>(wr, k, j.i2s_scale, j.rows, n0, out);
    case BITNET_TYPE_TQ2_0:
      return dot_tq2_0<R>(wr, k, j.rows, n0, out);
    default: {
      const float* x[R];
      for (int r = 0; r < R; ++r)
        x[r] = f32_row(*j.x, n0 + r, j.i2, j.i3);
      if (j.w->type == BITNET_TYPE_F16) return dot_float<BITNET_TYPE_F16, R>(wr, k, x, out);
      if (j.w->type == BITNET_TYPE_BF16) return dot_float<BITNET_TYPE_BF16, R>(wr, k, x, out);
      return dot_float<BITNET_TYPE_F32, R>(wr, k, x, out);
    }
  }
}

#if BITNET_CPU_AVX512
// The ternary types in tiles of kTileRows weight rows by kTileRows activation rows.
void run_rows_ternary_vnni(const Job& j, int64_t m_begin, int64_t m_end) {
  const int64_t n_count = j.x->ne[1], k = j.w->ne[0];
  const size_t stride = j.w->nb[1];
  float out[kTileRows * kTileRows];
  for (int64_t m = m_begin; m < m_end; m += kTileRows) {
    const int w_rows = static_cast<int>(std::min<int64_t>(kTileRows, m_end - m));
    const std::byte* wr = j.w_rows + m * static_cast<int64_t>(stride);
    for (int64_t n = 0; n < n_count; n += kTileRows) {
      const int r = static_cast<int>(std::min<int64_t>(kTileRows, n_count - n));
      if (j.w->type == BITNET_TYPE_I2_S)
        dot_i2_s_vnni(wr, stride, w_rows, k, j.i2s_scale, j.rows, n, r, out);
      else
        dot_tq2_0_vnni(wr, stride, w_rows, k, j.rows, n, r, out);
      for (int i = 0; i < r; ++i) {
        float* row = f32_row(*j.dst, n + i, j.i2, j.i3);
        for (int wi = 0; wi < w_rows; ++wi)
          row[m + wi] = out[wi * kTileRows + i];
      }
    }
  }
}
#endif

void run_rows(const Job& j, int64_t m_begin, int64_t m_end) {
#if BITNET_CPU_AVX512
  // Prefill only: for one activation row (decode) the AVX2 kernels read the weights faster
  // (I2_S 53-56 against 43-47 tok/s, a 12-layer 2B4T-shaped model, 1 thread; TQ2_0 even).
  if ((j.w->type == BITNET_TYPE_I2_S || j.w->type == BITNET_TYPE_TQ2_0) && j.x->ne[1] > 1)
    return run_rows_ternary_vnni(j, m_begin, m_end);
#endif
  const int64_t n_count = j.x->ne[1];
  float out[kMaxRows];
  int64_t m = m_begin;
  for (; m < m_end; ++m) {
    const std::byte* wr = j.w_rows + m * static_cast<int64_t>(j.w->nb[1]);
    for (int64_t n = 0; n < n_count; n += kMaxRows) {
      const int64_t r = std::min<int64_t>(kMaxRows, n_count - n);
      switch (r) {
        case 4:
          dot_rows<4>(j, wr, n, out);
          break;
        case 3:
          dot_rows<3>(j, wr, n, out);
          break;
        case 2:
          dot_rows<2>(j, wr, n, out);
          break;
        default:
          dot_rows<1>(j, wr, n, out);
      }
      for (int64_t i = 0; i < r; ++i)
        f32_row(*j.dst, n + i, j.i2, j.i3)[m] = out[i];
    }
  }
}

}  // namespace

void mul_mat(const bitnet_tensor& dst) {
  Job j{&dst, dst.src[0], dst.src[1], 0, 0, nullptr, {}, {}, 0};
  const bitnet_tensor& w = *j.w;
  if (w.type == BITNET_TYPE_I2_S) j.i2s_scale = cpu_generic::i2s_scale(w);
  const size_t m_count = static_cast<size_t>(w.ne[1]);
  const size_t grain = cpu_generic::balanced_grain(m_count);
  for (int64_t i3 = 0; i3 < j.x->ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < j.x->ne[2]; ++i2) {
      j.i2 = i2;
      j.i3 = i3;
      j.w_rows = cpu_generic::weight_batch(w, *j.x, i2, i3);
      switch (w.type) {
        case BITNET_TYPE_Q8_0:
        case BITNET_TYPE_Q4_0:
        case BITNET_TYPE_Q4_K:
        case BITNET_TYPE_Q6_K:
          quantize_blocks(*j.x, i2, i3, j.blocks);
          break;
        case BITNET_TYPE_I2_S:
        case BITNET_TYPE_TQ2_0:
          quantize_rows(*j.x, i2, i3, j.rows);
#if BITNET_CPU_AVX512
          if (j.x->ne[1] > 1 && w.type == BITNET_TYPE_I2_S) pair_blocks(j.rows);
          if (j.x->ne[1] > 1 && w.type == BITNET_TYPE_TQ2_0) pair_tq2_0_halves(j.rows);
#endif
          break;
      }
      sdk::plugin_host().parallel_for(0, m_count, grain, [&](size_t b, size_t e) {
        run_rows(j, static_cast<int64_t>(b), static_cast<int64_t>(e));
      });
    }
}

}  // namespace bitnet::cpu_avx2

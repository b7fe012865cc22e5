#include "decode_vnni.hpp"

#include <bitnet/backend.h>

#include <algorithm>
#include <array>
#include <cstring>

#include <immintrin.h>

#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")
// GCC 12's own 512-bit extract and insert intrinsics start from an undefined register, which
// its -Wuninitialized reports at every use of the _mm512_reduce_* helpers.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace bitnet::cpu_avx2 {
namespace {

__m512i load64(const void* p) {
  return _mm512_loadu_si512(p);
}

// The first `bytes` (1 to 64) bytes at p, zeros after them; nothing past them is read.
__m512i load_head(const void* p, int64_t bytes) {
  const __mmask64 m = bytes >= 64 ? ~__mmask64{0} : (__mmask64{1} << bytes) - 1;
  return _mm512_maskz_loadu_epi8(m, p);
}

// acc plus, per 32-bit lane, four products of unsigned bytes u and signed bytes at x. In asm
// because GCC 12 copies the accumulator to a fresh register around each vpdpbusd intrinsic,
// which in these loops doubles the instructions per weight byte.
__m512i dpbusd(__m512i acc, __m512i u, const int8_t* x) {
  __asm__("vpdpbusd %2, %1, %0"
          : "+v"(acc)
          : "v"(u), "m"(*reinterpret_cast<const int8_t(*)[64]>(x)));
  return acc;
}

__m256i dpbusd(__m256i acc, __m256i u, const int8_t* x) {
  __asm__("vpdpbusd %2, %1, %0"
          : "+v"(acc)
          : "v"(u), "m"(*reinterpret_cast<const int8_t(*)[32]>(x)));
  return acc;
}

// Every kernel here prefetches the line kPrefetchBytes ahead of each 64 bytes it reads: with
// two threads a hardware stream per core leaves this host's bandwidth unused. Measured on Zen 5
// (runs of A and B alternated, medians of 4-6): 2B4T I2_S decode 29.6 -> 33.5 tok/s at 2
// threads and 20.3 -> 25.3 at 1 (most of its bytes are the F16 head); 1B Q4_0 60.4 -> 67.3 and
// 36.5 -> 38.6 with 4 KiB against the 2 KiB it had; 8 KiB and 2 KiB were no better than 4.
constexpr int64_t kPrefetchBytes = 4096;

void prefetch_ahead(const std::byte* w) {
  _mm_prefetch(reinterpret_cast<const char*>(w + kPrefetchBytes), _MM_HINT_T0);
}

__m512i words(const std::array<uint16_t, 32>& idx) {
  return _mm512_loadu_si512(idx.data());
}

float fp16_scalar(const std::byte* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// F16: 32 weights per step in two chains.
float dot_f16(const std::byte* w, int64_t k, const float* x) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= k; i += 32) {
    prefetch_ahead(w);
    a0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w))),
                         _mm512_loadu_ps(x + i), a0);
    a1 = _mm512_fmadd_ps(
        _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32))),
        _mm512_loadu_ps(x + i + 16), a1);
    w += 64;
  }
  for (; i < k; i += 16, w += 32) {
    const int64_t left = std::min<int64_t>(16, k - i);
    const __mmask16 m = static_cast<__mmask16>((1u << left) - 1);
    a0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, w)),
                         _mm512_maskz_loadu_ps(m, x + i), a0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

// The sum of s's 8 lanes.
int32_t sum8(__m256i s) {
  __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4e));
  return _mm_cvtsi128_si32(_mm_add_epi32(t, _mm_shuffle_epi32(t, 0xb1)));
}

// I2_S: one 128-element block per 32-byte load (two blocks per 64-byte load, reordering the
// activations to match, measured 40% slower here). Group g of a block sits at bits 6-2g of each
// byte; masking it in place, without a shift, makes vpdpbusd sum 4^(3-g) * code * x, one
// accumulator per group, and the powers come out exactly by shifting once per row. A lane gains
// at most 4 * 192 * 128 per block, so rows up to 2.7M elements fit.
int32_t dot_i2_s(const std::byte* w, int64_t k, const int8_t* x) {
  const __m256i m0 = _mm256_set1_epi8(static_cast<char>(0xC0)), m1 = _mm256_set1_epi8(0x30),
                m2 = _mm256_set1_epi8(0x0C), m3 = _mm256_set1_epi8(0x03);
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t b = 0; b < k / 128; ++b, w += 32, x += 128) {
    if (b % 2 == 0) prefetch_ahead(w);
    const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
    a0 = dpbusd(a0, _mm256_and_si256(bytes, m0), x);
    a1 = dpbusd(a1, _mm256_and_si256(bytes, m1), x + 32);
    a2 = dpbusd(a2, _mm256_and_si256(bytes, m2), x + 64);
    a3 = dpbusd(a3, _mm256_and_si256(bytes, m3), x + 96);
  }
  const __m256i s =
      _mm256_add_epi32(_mm256_add_epi32(_mm256_srai_epi32(a0, 6), _mm256_srai_epi32(a1, 4)),
                       _mm256_add_epi32(_mm256_srai_epi32(a2, 2), a3));
  return sum8(s);
}

// TQ2_0: per 256-element block two 32-byte loads of codes, then the fp16 scale; element
// 32*(4h+l)+m sits in byte 32h+m at bits 2l, masked in place as for I2_S. Each block's integer
// sum is scaled and added in double in block order, as cpu-generic does; four blocks' sums are
// reduced together and scaled in one double vector (add_tq2_blocks; each product is exact: an
// fp16 scale times an integer below 2^15). tq2_block takes the blocks dot_tq2_0_pairs leaves.
__m256i tq2_block(const std::byte* w, const int8_t* x) {
  const __m256i m0 = _mm256_set1_epi8(0x03), m1 = _mm256_set1_epi8(0x0C),
                m2 = _mm256_set1_epi8(0x30), m3 = _mm256_set1_epi8(static_cast<char>(0xC0));
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (int h = 0; h < 2; ++h) {
    const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32 * h));
    const int8_t* xh = x + 128 * h;
    a0 = dpbusd(a0, _mm256_and_si256(bytes, m0), xh);
    a1 = dpbusd(a1, _mm256_and_si256(bytes, m1), xh + 32);
    a2 = dpbusd(a2, _mm256_and_si256(bytes, m2), xh + 64);
    a3 = dpbusd(a3, _mm256_and_si256(bytes, m3), xh + 96);
  }
  return _mm256_add_epi32(_mm256_add_epi32(a0, _mm256_srai_epi32(a1, 2)),
                          _mm256_add_epi32(_mm256_srai_epi32(a2, 4), _mm256_srai_epi32(a3, 6)));
}

// Lane i: the sum of s_i's 8 lanes.
__m128i sum4(__m256i s0, __m256i s1, __m256i s2, __m256i s3) {
  const __m256i a = _mm256_add_epi32(_mm256_unpacklo_epi32(s0, s1), _mm256_unpackhi_epi32(s0, s1));
  const __m256i b = _mm256_add_epi32(_mm256_unpacklo_epi32(s2, s3), _mm256_unpackhi_epi32(s2, s3));
  const __m256i c = _mm256_add_epi32(_mm256_unpacklo_epi64(a, b), _mm256_unpackhi_epi64(a, b));
  return _mm_add_epi32(_mm256_castsi256_si128(c), _mm256_extracti128_si256(c, 1));
}

uint16_t fp16_bits(const std::byte* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return h;
}

// The four blocks' scaled sums from `dots` (integer sums less the activations' block sums)
// and their fp16 scales at w + 64, + 130, + 196 and + 262, added to acc in block order.
double add_tq2_blocks(double acc, __m128i dots, const std::byte* w) {
  const __m128i h = _mm_setr_epi16(static_cast<int16_t>(fp16_bits(w + 64)),
                                   static_cast<int16_t>(fp16_bits(w + 130)),
                                   static_cast<int16_t>(fp16_bits(w + 196)),
                                   static_cast<int16_t>(fp16_bits(w + 262)), 0, 0, 0, 0);
  const __m256d p = _mm256_mul_pd(_mm256_cvtps_pd(_mm_cvtph_ps(h)), _mm256_cvtepi32_pd(dots));
  const __m128d lo = _mm256_castpd256_pd128(p), hi = _mm256_extractf128_pd(p, 1);
  acc += _mm_cvtsd_f64(lo);
  acc += _mm_cvtsd_f64(_mm_unpackhi_pd(lo, lo));
  acc += _mm_cvtsd_f64(hi);
  acc += _mm_cvtsd_f64(_mm_unpackhi_pd(hi, hi));
  return acc;
}

// TQ2_0 with two blocks a 512-bit register (block 2p in the low half, 2p + 1 in the high), over
// activations reordered by prepare_tq2_0 (for each pair, half h and group l, the two blocks'
// 32 bytes side by side): half the instructions of tq2_block per block, the same integer sums.
// One thread had been bound by its instructions (layers at about 21.6 GB/s where I2_S's read
// 28); on Zen 5 this took 2B4T TQ2_0 decode from 22.9-23.6 to 23.4-25.5 tok/s at one thread.
__m512i tq2_pair(const std::byte* w, const int8_t* xp) {
  const __m512i m0 = _mm512_set1_epi8(0x03), m1 = _mm512_set1_epi8(0x0C),
                m2 = _mm512_set1_epi8(0x30), m3 = _mm512_set1_epi8(static_cast<char>(0xC0));
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  for (int h = 0; h < 2; ++h) {
    const __m512i bytes = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32 * h))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 66 + 32 * h)), 1);
    const int8_t* xh = xp + 256 * h;
    a0 = dpbusd(a0, _mm512_and_si512(bytes, m0), xh);
    a1 = dpbusd(a1, _mm512_and_si512(bytes, m1), xh + 64);
    a2 = dpbusd(a2, _mm512_and_si512(bytes, m2), xh + 128);
    a3 = dpbusd(a3, _mm512_and_si512(bytes, m3), xh + 192);
  }
  return _mm512_add_epi32(_mm512_add_epi32(a0, _mm512_srai_epi32(a1, 2)),
                          _mm512_add_epi32(_mm512_srai_epi32(a2, 4), _mm512_srai_epi32(a3, 6)));
}

double dot_tq2_0_pairs(const std::byte* w, int64_t k, const int8_t* pairs, const int8_t* x,
                       const int32_t* block_sums) {
  const int64_t blocks = k / 256;
  double acc = 0;
  int64_t b = 0;
  for (; b + 4 <= blocks; b += 4, w += 4 * 66) {
    for (int line = 0; line < 5; ++line)  // 264 bytes meet up to 5 lines
      prefetch_ahead(w + 64 * line);
    const __m512i p0 = tq2_pair(w, pairs + 256 * b), p1 = tq2_pair(w + 132, pairs + 256 * b + 512);
    const __m128i dots =
        _mm_sub_epi32(sum4(_mm512_castsi512_si256(p0), _mm512_extracti64x4_epi64(p0, 1),
                           _mm512_castsi512_si256(p1), _mm512_extracti64x4_epi64(p1, 1)),
                      _mm_loadu_si128(reinterpret_cast<const __m128i*>(block_sums + b)));
    acc = add_tq2_blocks(acc, dots, w);
  }
  for (; b < blocks; ++b, w += 66) {
    const int32_t dot = sum8(tq2_block(w, x + 256 * b)) - block_sums[b];
    acc += static_cast<double>(fp16_scalar(w + 64)) * static_cast<double>(dot);
  }
  return acc;
}

// Word indices that gather, from a group of 18-byte Q4_0 blocks loaded as bytes 0-63 (A) and
// 8-71 (B), the 16 code bytes of each of four blocks (32 words), and each block's fp16 scale
// four times (the low 16 words).
constexpr std::array<uint16_t, 32> q4_codes_idx() {
  std::array<uint16_t, 32> idx{};
  for (int j = 0; j < 32; ++j) {
    const int word = 9 * (j / 8) + 1 + j % 8;
    idx[j] = static_cast<uint16_t>(word < 32 ? word : 32 + word - 4);
  }
  return idx;
}
// The same codes from one 128-byte window holding the group from its first byte.
constexpr std::array<uint16_t, 32> q4_line_codes_idx() {
  std::array<uint16_t, 32> idx{};
  for (int j = 0; j < 32; ++j)
    idx[j] = static_cast<uint16_t>(9 * (j / 8) + 1 + j % 8);
  return idx;
}
constexpr std::array<uint16_t, 32> q4_scale_idx() {
  std::array<uint16_t, 32> idx{};
  for (int j = 0; j < 16; ++j)
    idx[j] = static_cast<uint16_t>(9 * (j / 4));
  return idx;
}

// Q4_0: four blocks per step; each 128-bit lane holds one block's 16 code bytes, whose low
// nibbles meet elements 0-15 and high nibbles 16-31 (prepared in that order); the -8 offset
// comes in as the accumulator's starting bias.

float dot_q4_0(const std::byte* w, int64_t k, const DecodeActs& a) {
  static constexpr std::array<uint16_t, 32> kCodes = q4_codes_idx(), kScales = q4_scale_idx();
  const __m512i codes_idx = words(kCodes), scale_idx = words(kScales);
  const __m512i lo = _mm512_set1_epi8(15);
  const int64_t blocks = k / 32;
  __m512 acc = _mm512_setzero_ps();
  for (int64_t g = 0; 4 * g < blocks; ++g, w += 72) {
    prefetch_ahead(w);
    const int64_t bytes = 18 * std::min<int64_t>(4, blocks - 4 * g);
    const bool full = bytes == 72;
    const __m512i lo_bytes = full ? load64(w) : load_head(w, bytes);
    const __m512i hi_bytes = full ? load64(w + 8) : load_head(w + 8, bytes - 8);
    const __m512i q = _mm512_permutex2var_epi16(lo_bytes, codes_idx, hi_bytes);
    const int8_t* x = a.q.data() + 128 * g;
    __m512i s = dpbusd(load64(a.bias.data() + 16 * g), _mm512_and_si512(q, lo), x);
    s = dpbusd(s, _mm512_and_si512(_mm512_srli_epi16(q, 4), lo), x + 64);
    const __m512 d =
        _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(scale_idx, lo_bytes)));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s),
                          _mm512_mul_ps(d, _mm512_loadu_ps(a.scale.data() + 16 * g)), acc);
  }
  return _mm512_reduce_add_ps(acc);
}

// A weight row read as aligned 64-byte lines, so that no load splits over two lines: step(pos)
// makes current the line holding row byte pos and the one after it (steps go front to back
// and end within that second line) and prefetches ahead, and pick(idx) gathers words from the
// two by indices counted from pos.
class LineWindow {
 public:
  explicit LineWindow(const std::byte* row)
      : base_(
            reinterpret_cast<const std::byte*>(reinterpret_cast<uintptr_t>(row) & ~uintptr_t{63})),
        off_(row - base_),
        a_(_mm512_load_si512(base_)),
        b_(_mm512_load_si512(base_ + 64)) {}

  void step(int64_t pos) {
    prefetch_ahead(base_ + off_ + pos);
    pos += off_;
    for (const int64_t line = pos >> 6; loaded_ < line;) {
      a_ = b_;
      b_ = _mm512_load_si512(base_ + 64 * (++loaded_ + 1));
    }
    shift_ = _mm512_set1_epi16(static_cast<int16_t>((pos & 63) / 2));
  }
  __m512i pick(__m512i idx) const { return pick_shifted(shifted(idx)); }
  // pick in two steps, for windows at the same offset in their lines (one shift serves both).
  __m512i shifted(__m512i idx) const { return _mm512_add_epi16(idx, shift_); }
  __m512i pick_shifted(__m512i idx) const { return _mm512_permutex2var_epi16(a_, idx, b_); }

 private:
  const std::byte* base_;
  int64_t off_;
  __m512i a_, b_, shift_ = _mm512_setzero_si512();
  int64_t loaded_ = 0;  // a_ is line loaded_ of base_
};

// acc plus the step's int32 sums times the weights' fp16 scales (the low 16 words of
// w_scales) times the activations' scales, per 32-bit lane.
__m512 scaled(__m512 acc, __m512i sums, __m512i w_scales, __m512 x_scales) {
  const __m512 d = _mm512_cvtph_ps(_mm512_castsi512_si256(w_scales));
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), _mm512_mul_ps(d, x_scales), acc);
}
__m512 scaled(__m512 acc, __m512i sums, __m512i w_scales, const float* x_scales) {
  return scaled(acc, sums, w_scales, _mm512_loadu_ps(x_scales));
}

// dot_q4_0 for rows of whole groups, read through a LineWindow: dot_q4_0's two loads of each
// 72-byte group start at 8-byte steps of a line, so nearly all of them split over two lines.
float dot_q4_0_lines(const std::byte* w, int64_t k, const DecodeActs& a) {
  static constexpr std::array<uint16_t, 32> kCodes = q4_line_codes_idx(), kScales = q4_scale_idx();
  const __m512i codes_idx = words(kCodes), scale_idx = words(kScales);
  const __m512i lo = _mm512_set1_epi8(15);
  LineWindow row(w);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t g = 0; g < k / 128; ++g) {
    row.step(72 * g);
    const __m512i q = row.pick(codes_idx);
    const int8_t* x = a.q.data() + 128 * g;
    __m512i s = dpbusd(load64(a.bias.data() + 16 * g), _mm512_and_si512(q, lo), x);
    s = dpbusd(s, _mm512_and_si512(_mm512_srli_epi16(q, 4), lo), x + 64);
    acc = scaled(acc, s, row.pick(scale_idx), a.scale.data() + 16 * g);
  }
  return _mm512_reduce_add_ps(acc);
}

// dot_q4_0_lines of two rows at the same offset in their lines (a multiple of 64 bytes apart),
// interleaved: the activations' loads and the windows' indices serve both, and the two chains
// overlap. One thread was bound by its instructions, not by memory: 1B Q4_0 decode at one
// thread read 25.4 GB/s where the host read 31.9.
void dot2_q4_0_lines(const std::byte* w0, const std::byte* w1, int64_t k, const DecodeActs& a,
                     float* out) {
  static constexpr std::array<uint16_t, 32> kCodes = q4_line_codes_idx(), kScales = q4_scale_idx();
  const __m512i codes_idx = words(kCodes), scale_idx = words(kScales);
  const __m512i lo = _mm512_set1_epi8(15);
  LineWindow r0(w0), r1(w1);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0;
  for (int64_t g = 0; g < k / 128; ++g) {
    r0.step(72 * g);
    r1.step(72 * g);
    const __m512i codes = r0.shifted(codes_idx), scales = r0.shifted(scale_idx);
    const __m512i q0 = r0.pick_shifted(codes), q1 = r1.pick_shifted(codes);
    const int8_t* x = a.q.data() + 128 * g;
    const __m512i bias = load64(a.bias.data() + 16 * g);
    __m512i s0 = dpbusd(bias, _mm512_and_si512(q0, lo), x);
    __m512i s1 = dpbusd(bias, _mm512_and_si512(q1, lo), x);
    s0 = dpbusd(s0, _mm512_and_si512(_mm512_srli_epi16(q0, 4), lo), x + 64);
    s1 = dpbusd(s1, _mm512_and_si512(_mm512_srli_epi16(q1, 4), lo), x + 64);
    const __m512 xs = _mm512_loadu_ps(a.scale.data() + 16 * g);
    acc0 = scaled(acc0, s0, r0.pick_shifted(scales), xs);
    acc1 = scaled(acc1, s1, r1.pick_shifted(scales), xs);
  }
  out[0] = _mm512_reduce_add_ps(acc0);
  out[1] = _mm512_reduce_add_ps(acc1);
}

// The word indices of two Q8_0 blocks' codes (bytes 2-33 and 36-67 of the pair) and of each
// block's fp16 scale once per 32-bit lane of its half, from a window holding the pair from its
// first byte.
constexpr std::array<uint16_t, 32> q8_pair_codes_idx() {
  std::array<uint16_t, 32> idx{};
  for (int j = 0; j < 32; ++j)
    idx[j] = static_cast<uint16_t>(j < 16 ? 1 + j : 18 + j - 16);
  return idx;
}
constexpr std::array<uint16_t, 32> q8_pair_scale_idx() {
  std::array<uint16_t, 32> idx{};
  for (int j = 8; j < 16; ++j)
    idx[j] = 17;
  return idx;
}

// Q8_0: two blocks (68 bytes) a step through a LineWindow (a pair starting 4-byte aligned lies
// in two lines). Codes are signed, so they go to vpdpbusd as w + 128 and the activations' sums
// times 128 come off (the bias's first lane of each block).
float dot_q8_0_lines(const std::byte* w, int64_t k, const DecodeActs& a) {
  static constexpr std::array<uint16_t, 32> kCodes = q8_pair_codes_idx(),
                                            kScales = q8_pair_scale_idx();
  const __m512i codes_idx = words(kCodes), scale_idx = words(kScales);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const int8_t* x = a.blocks->row(0);
  LineWindow row(w);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t g = 0; g < k / 64; ++g) {
    row.step(68 * g);
    const __m512i s = dpbusd(load64(a.bias.data() + 16 * g),
                             _mm512_xor_si512(row.pick(codes_idx), flip), x + 64 * g);
    acc = scaled(acc, s, row.pick(scale_idx), a.scale.data() + 16 * g);
  }
  return _mm512_reduce_add_ps(acc);
}

// dot_q8_0_lines of two rows at the same offset in their lines, as dot2_q4_0_lines.
void dot2_q8_0_lines(const std::byte* w0, const std::byte* w1, int64_t k, const DecodeActs& a,
                     float* out) {
  static constexpr std::array<uint16_t, 32> kCodes = q8_pair_codes_idx(),
                                            kScales = q8_pair_scale_idx();
  const __m512i codes_idx = words(kCodes), scale_idx = words(kScales);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const int8_t* x = a.blocks->row(0);
  LineWindow r0(w0), r1(w1);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0;
  for (int64_t g = 0; g < k / 64; ++g) {
    r0.step(68 * g);
    r1.step(68 * g);
    const __m512i codes = r0.shifted(codes_idx), scales = r0.shifted(scale_idx);
    const __m512i bias = load64(a.bias.data() + 16 * g);
    const __m512i s0 = dpbusd(bias, _mm512_xor_si512(r0.pick_shifted(codes), flip), x + 64 * g);
    const __m512i s1 = dpbusd(bias, _mm512_xor_si512(r1.pick_shifted(codes), flip), x + 64 * g);
    const __m512 xs = _mm512_loadu_ps(a.scale.data() + 16 * g);
    acc0 = scaled(acc0, s0, r0.pick_shifted(scales), xs);
    acc1 = scaled(acc1, s1, r1.pick_shifted(scales), xs);
  }
  out[0] = _mm512_reduce_add_ps(acc0);
  out[1] = _mm512_reduce_add_ps(acc1);
}

// Q8_0 activations for dot_q8_0_lines: the int8 row as it is (read where quantize_blocks left
// it); per pair of blocks each block's scale in its eight lanes and -128 times its sum in its
// first.
void prepare_q8_0(const BlockActs& b, DecodeActs& out) {
  const int64_t blocks = b.k / 32;
  out.blocks = &b;
  out.scale.assign(static_cast<size_t>(8 * blocks), 0.0f);
  out.bias.assign(static_cast<size_t>(8 * blocks), 0);
  for (int64_t i = 0; i < blocks; ++i) {
    std::fill_n(out.scale.begin() + 8 * i, 8, b.scales(0)[i]);
    out.bias[static_cast<size_t>(8 * i)] = -128 * b.sums(0)[i];
  }
}

// Q4_0 activations in groups of four blocks, zero-padded to whole groups: per group the low
// halves of its blocks, then the high halves; per block its scale in each of its four lanes
// and -8 times its sum in the first.
void prepare_q4_0(const BlockActs& b, DecodeActs& out) {
  const int64_t blocks = b.k / 32, groups = (blocks + 3) / 4;
  out.scale.assign(static_cast<size_t>(16 * groups), 0.0f);
  out.bias.assign(static_cast<size_t>(16 * groups), 0);
  out.q.assign(static_cast<size_t>(128 * groups), 0);
  for (int64_t i = 0; i < blocks; ++i) {
    std::fill_n(out.scale.begin() + 4 * i, 4, b.scales(0)[i]);
    out.bias[static_cast<size_t>(4 * i)] = -8 * b.sums(0)[i];
  }
  for (int64_t i = 0; i < blocks; ++i) {
    const int64_t base = 128 * (i / 4) + 16 * (i % 4);
    std::copy_n(b.row(0) + 32 * i, 16, out.q.begin() + base);
    std::copy_n(b.row(0) + 32 * i + 16, 16, out.q.begin() + base + 64);
  }
}

// TQ2_0 activations for dot_tq2_0_pairs: per pair of blocks, half h and group l, the 32 bytes
// of each block side by side.
void prepare_tq2_0(const RowActs& rows, DecodeActs& out) {
  const int64_t pairs = rows.k / 512;
  const int8_t* x = rows.row(0);
  out.q.resize(static_cast<size_t>(512 * pairs));
  for (int64_t p = 0; p < pairs; ++p)
    for (int part = 0; part < 8; ++part)  // half h = part / 4, group l = part % 4
      for (int b = 0; b < 2; ++b)
        std::copy_n(x + 256 * (2 * p + b) + 32 * part, 32,
                    out.q.begin() + 512 * p + 64 * part + 32 * b);
}

}  // namespace

bool has_decode_vnni(int32_t type, int64_t k, const std::byte* w, size_t stride) {
  // Pairs starting 4-byte aligned in a line end within the next one (60 + 68 = 128).
  if (type == BITNET_TYPE_Q8_0)
    return k % 64 == 0 && reinterpret_cast<uintptr_t>(w) % 4 == 0 && stride % 4 == 0;
  return type == BITNET_TYPE_I2_S || type == BITNET_TYPE_TQ2_0 || type == BITNET_TYPE_Q4_0 ||
         type == BITNET_TYPE_F16;
}

void prepare_decode_vnni(int32_t type, const RowActs& rows, const BlockActs& blocks,
                         DecodeActs& out) {
  if (type == BITNET_TYPE_I2_S || type == BITNET_TYPE_TQ2_0) out.rows = &rows;
  if (type == BITNET_TYPE_TQ2_0) prepare_tq2_0(rows, out);
  if (type == BITNET_TYPE_Q4_0) prepare_q4_0(blocks, out);
  if (type == BITNET_TYPE_Q8_0) prepare_q8_0(blocks, out);
}

void decode_vnni(int32_t type, const std::byte* w, size_t stride, int64_t k, float i2s_scale,
                 const float* x, const DecodeActs& a, int64_t m_begin, int64_t m_end, float* out) {
  const auto row = [&](int64_t m) { return w + m * static_cast<int64_t>(stride); };
  auto each_row = [&](auto dot) {
    for (int64_t m = m_begin; m < m_end; ++m)
      out[m - m_begin] = dot(row(m));
  };
  // Rows m and m + half through dot2 (rows a multiple of 64 bytes apart): two sequential
  // streams, as the prefetchers follow; two rows in turn from one stream (m and m + 1) read
  // 1B Q4_0 at half the speed.
  auto each_pair = [&](auto dot, auto dot2) {
    if (stride % 64) return each_row(dot);
    const int64_t half = (m_end - m_begin) / 2;
    for (int64_t m = m_begin; m < m_begin + half; ++m) {
      float pair[2];
      dot2(row(m), row(m + half), pair);
      out[m - m_begin] = pair[0];
      out[m + half - m_begin] = pair[1];
    }
    if ((m_end - m_begin) % 2) out[m_end - 1 - m_begin] = dot(row(m_end - 1));
  };
  switch (type) {
    case BITNET_TYPE_F16:
      return each_row([&](const std::byte* row) { return dot_f16(row, k, x); });
    case BITNET_TYPE_I2_S: {
      // The same double arithmetic as cpu-generic, so the two agree to the bit.
      const double scale = i2s_scale, step = a.rows->step(0);
      const int32_t total = a.rows->total(0);
      const int8_t* q = a.rows->row(0);
      return each_row([&](const std::byte* row) {
        return static_cast<float>(scale * (dot_i2_s(row, k, q) - total) * step);
      });
    }
    case BITNET_TYPE_TQ2_0: {
      const double step = a.rows->step(0);
      const int32_t* sums = a.rows->block_sums(0);
      return each_row([&](const std::byte* row) {
        return static_cast<float>(dot_tq2_0_pairs(row, k, a.q.data(), a.rows->row(0), sums) * step);
      });
    }
    case BITNET_TYPE_Q8_0:
      return each_pair([&](const std::byte* r) { return dot_q8_0_lines(r, k, a); },
                       [&](const std::byte* r0, const std::byte* r1, float* pair) {
                         dot2_q8_0_lines(r0, r1, k, a, pair);
                       });
    case BITNET_TYPE_Q4_0:
      // Groups starting 8-byte aligned in a line end within the next one (56 + 72 = 128).
      if (k % 128 == 0 && reinterpret_cast<uintptr_t>(w) % 8 == 0 && stride % 8 == 0)
        return each_pair([&](const std::byte* r) { return dot_q4_0_lines(r, k, a); },
                         [&](const std::byte* r0, const std::byte* r1, float* pair) {
                           dot2_q4_0_lines(r0, r1, k, a, pair);
                         });
      return each_row([&](const std::byte* row) { return dot_q4_0(row, k, a); });
  }
}

}  // namespace bitnet::cpu_avx2

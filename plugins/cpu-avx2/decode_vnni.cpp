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
// accumulator per group, and the powers come out exactly by shifting once per row. Even and odd
// blocks go to separate accumulators: with one set, each step waited on the previous step's
// vpdpbusd (2560-wide rows from L2, one thread on Zen 5: 28.2 -> 33.5 GB/s; from memory the
// two were within the host's noise). A lane gains at most 4 * 192 * 128 per block, so rows up
// to 2.7M elements fit.
int32_t dot_i2_s(const std::byte* w, int64_t k, const int8_t* x) {
  const __m256i m0 = _mm256_set1_epi8(static_cast<char>(0xC0)), m1 = _mm256_set1_epi8(0x30),
                m2 = _mm256_set1_epi8(0x0C), m3 = _mm256_set1_epi8(0x03);
  __m256i a[2][4];
  for (auto& set : a)
    for (auto& acc : set)
      acc = _mm256_setzero_si256();
  const auto add_block = [&](__m256i* acc, const std::byte* wb, const int8_t* xb) {
    const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb));
    acc[0] = dpbusd(acc[0], _mm256_and_si256(bytes, m0), xb);
    acc[1] = dpbusd(acc[1], _mm256_and_si256(bytes, m1), xb + 32);
    acc[2] = dpbusd(acc[2], _mm256_and_si256(bytes, m2), xb + 64);
    acc[3] = dpbusd(acc[3], _mm256_and_si256(bytes, m3), xb + 96);
  };
  const int64_t blocks = k / 128;
  int64_t b = 0;
  for (; b + 2 <= blocks; b += 2, w += 64, x += 256) {
    prefetch_ahead(w);
    add_block(a[0], w, x);
    add_block(a[1], w + 32, x + 128);
  }
  if (b < blocks) add_block(a[0], w, x);
  for (int g = 0; g < 4; ++g)
    a[0][g] = _mm256_add_epi32(a[0][g], a[1][g]);
  const __m256i s = _mm256_add_epi32(
      _mm256_add_epi32(_mm256_srai_epi32(a[0][0], 6), _mm256_srai_epi32(a[0][1], 4)),
      _mm256_add_epi32(_mm256_srai_epi32(a[0][2], 2), a[0][3]));
  return sum8(s);
}

// TQ2_0: one 256-element block a 512-bit register (two 32-byte loads: a 64-byte load at the
// blocks' 66-byte steps splits over two lines, and from memory that read 14 GB/s where two
// halves read 29). Byte 32h + m holds element 128h + 32l + m at bits 2l; each group l is
// shifted down and masked, so all four go into one accumulator, which starts at the block's
// bias (-sum x in lane 0; codes mean c - 1) and meets the activations prepare_tq2_0 laid out
// per group. Blocks are independent chains, so their latency overlaps; each block's 16 lane
// sums are scaled by its fp16 scale in double (exact: an fp16 times an integer below 2^17) into
// two double accumulators. That adds in another order than cpu-generic (a block's whole sum
// scaled, blocks in turn), but every partial sum is exact in double unless a row's block scales
// differ by more than about 2^20 (a ternarised row's block scales are its blocks' mean
// magnitudes, within a few times of each other), so the two still agree to the bit. Against
// two blocks a register with the sums reduced per block (2560-wide rows from memory, one thread
// on Zen 5): 25.3 -> 28.8 GB/s; 2B4T TQ2_0 decode at one thread 21.9-23.2 -> 24.3-25.3 tok/s.
double dot_tq2_0(const std::byte* w, int64_t k, const int8_t* x, const int32_t* bias) {
  const __m512i m3 = _mm512_set1_epi8(3);
  __m512d acc0 = _mm512_setzero_pd(), acc1 = acc0;
  for (int64_t b = 0; b < k / 256; ++b, w += 66, x += 256, bias += 16) {
    prefetch_ahead(w);
    prefetch_ahead(w + 64);  // blocks step 66 bytes: one prefetch each would skip lines
    const __m512i bytes = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32)), 1);
    __m512i s = _mm512_loadu_si512(bias);
    s = dpbusd(s, _mm512_and_si512(bytes, m3), x);
    s = dpbusd(s, _mm512_and_si512(_mm512_srli_epi16(bytes, 2), m3), x + 64);
    s = dpbusd(s, _mm512_and_si512(_mm512_srli_epi16(bytes, 4), m3), x + 128);
    s = dpbusd(s, _mm512_and_si512(_mm512_srli_epi16(bytes, 6), m3), x + 192);
    const __m512d d = _mm512_set1_pd(static_cast<double>(fp16_scalar(w + 64)));
    acc0 = _mm512_fmadd_pd(d, _mm512_cvtepi32_pd(_mm512_castsi512_si256(s)), acc0);
    acc1 = _mm512_fmadd_pd(d, _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(s, 1)), acc1);
  }
  return _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
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

// TQ2_0 activations for dot_tq2_0: per block and group l, elements 32l.. and 128 + 32l.. (the
// 32 bytes each half of the block's codes meets) side by side; per block 16 lanes of bias, the
// first -sum of its q.
void prepare_tq2_0(const RowActs& rows, DecodeActs& out) {
  const int64_t blocks = rows.k / 256;
  const int8_t* x = rows.row(0);
  out.q.resize(static_cast<size_t>(256 * blocks));
  out.bias.assign(static_cast<size_t>(16 * blocks), 0);
  for (int64_t b = 0; b < blocks; ++b) {
    for (int l = 0; l < 4; ++l)
      for (int h = 0; h < 2; ++h)
        std::copy_n(x + 256 * b + 128 * h + 32 * l, 32, out.q.begin() + 256 * b + 64 * l + 32 * h);
    out.bias[static_cast<size_t>(16 * b)] = -rows.block_sums(0)[b];
  }
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
      return each_row([&](const std::byte* row) {
        return static_cast<float>(dot_tq2_0(row, k, a.q.data(), a.bias.data()) * step);
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

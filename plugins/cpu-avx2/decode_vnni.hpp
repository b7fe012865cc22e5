// Decode (one activation row) in the cpu-avx512 variant: row kernels for F16 (512-bit FMA over
// vcvtph2ps), I2_S (256-bit vpdpbusd on codes masked in place), TQ2_0 (512-bit vpdpbusd, a
// block a register, from two 32-byte loads), Q4_0 and Q8_0 (512-bit vpdpbusd on rows read as
// aligned 64-byte lines), all with a software prefetch, the weight types where they beat the
// AVX2 kernels on one activation row. Q8_0 kernels that loaded blocks at their own offsets were
// 80% slower (two blocks per 64-byte load) or no faster (one per 32-byte load) than the AVX2 one
// on a Zen 4; there the ternary kernels with 64-byte loads were 10-40% slower than with 32,
// while on Zen 5 TQ2_0's 512-bit registers paid.
// Each kernel reads a weight row once front to back, one row per pass, so the rows of a
// thread's range form one stream, which the software prefetch runs 4 KiB ahead of; Q4_0 and
// Q8_0 rows a multiple of 64 bytes apart are read as two such streams, the range's halves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "activations.hpp"

namespace bitnet::cpu_avx2 {

// Activation row 0 laid out as the kernel for one weight type loads it.
struct DecodeActs {
  std::vector<int8_t> q;     // Q4_0, TQ2_0: the int8 values, in the order of the codes they meet
  std::vector<float> scale;  // Q4_0, Q8_0: each block's activation scale, once per 32-bit lane
  // Q4_0, Q8_0: -8 (Q4_0) or -128 (Q8_0, codes offset to unsigned) times each block's sum, in
  // the block's first lane; TQ2_0: -1 times each block's sum (codes mean c - 1), in the first of
  // its 16 lanes
  std::vector<int32_t> bias;
  const RowActs* rows = nullptr;      // I2_S, TQ2_0: the int8 row, its step and sums
  const BlockActs* blocks = nullptr;  // Q8_0: the int8 row as quantize_blocks made it
};

// Whether decode_vnni has a kernel for these weight rows (k elements, `stride` bytes apart
// from w).
bool has_decode_vnni(int32_t type, int64_t k, const std::byte* w, size_t stride);

// Fills `out` for `type` from the activations mul_mat quantised for it (rows for the ternary
// types, blocks for Q4_0 and Q8_0; F16 uses the float row and needs nothing).
void prepare_decode_vnni(int32_t type, const RowActs& rows, const BlockActs& blocks,
                         DecodeActs& out);

// out[m - m_begin] = dot(weight row m, activation row) for m in [m_begin, m_end): rows of k
// elements `stride` bytes apart from w; x is the float activation row (F16 weights),
// i2s_scale the I2_S tensor's scale. Ternary results equal cpu-generic's to the bit (TQ2_0's
// while a row's block scales are within about 2^20 of each other: see dot_tq2_0).
void decode_vnni(int32_t type, const std::byte* w, size_t stride, int64_t k, float i2s_scale,
                 const float* x, const DecodeActs& a, int64_t m_begin, int64_t m_end, float* out);

}  // namespace bitnet::cpu_avx2

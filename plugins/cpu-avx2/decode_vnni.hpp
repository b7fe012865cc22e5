// Decode (one activation row) in the cpu-avx512 variant: row kernels with 512-bit arithmetic
// for the weight types where they beat the AVX2 ones on one activation row: F16 (vcvtph2ps, no
// software prefetch), TQ2_0 and Q4_0 (vpdpbusd). I2_S and Q8_0 stay on the AVX2 kernels: the
// same approach (64-byte loads, vpdpbusd, 4 to 11 instructions per 64 weight bytes) read
// their weights 30-80% slower on the Zen 4 this was measured on.
// Each kernel reads a weight row once front to back, one row per pass, so the rows of a
// thread's range form one stream for the hardware prefetcher.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "activations.hpp"

namespace bitnet::cpu_avx2 {

// Activation row 0 laid out as the kernel for one weight type loads it.
struct DecodeActs {
  std::vector<int8_t> q;          // the int8 values, in the order of the weight bytes they meet
  std::vector<float> scale;       // Q4_0: each block's activation scale, once per 32-bit lane
  std::vector<int32_t> bias;      // Q4_0: -8 times each block's sum, in the block's first lane
  const RowActs* rows = nullptr;  // TQ2_0: step and block sums
};

// Whether decode_vnni has a kernel for this weight type.
bool has_decode_vnni(int32_t type);

// Fills `out` for `type` from the activations mul_mat quantised for it (rows for TQ2_0, blocks
// for Q4_0; F16 uses the float row and needs nothing).
void prepare_decode_vnni(int32_t type, const RowActs& rows, const BlockActs& blocks,
                         DecodeActs& out);

// out[m - m_begin] = dot(weight row m, activation row) for m in [m_begin, m_end): rows of k
// elements `stride` bytes apart from w; x is the float activation row (F16 weights). TQ2_0
// results equal cpu-generic's to the bit.
void decode_vnni(int32_t type, const std::byte* w, size_t stride, int64_t k, const float* x,
                 const DecodeActs& a, int64_t m_begin, int64_t m_end, float* out);

}  // namespace bitnet::cpu_avx2

// The Q8_0, Q4_0, Q4_K and Q6_K matmul for several activation rows (prefill) with AVX-512 VNNI (the
// cpu-avx512 variant). Sixteen weight rows at a time are copied into a small buffer with one
// weight row per int32 lane, as signed bytes, so that one vpdpbusd with four broadcast
// activation bytes (unsigned: x + 128, whose extra 128 * the weight sum starts each block's
// sum negated) advances sixteen dot products; the buffer then serves every activation row.
// The scales multiply once per 32-element block, in float, as the row kernels do (Q4_K's mins
// with the block's activation sum, Q6_K per half block); the integer sums are exact.
#pragma once

#include <bitnet/backend.h>

#include <cstddef>
#include <cstdint>

#include "activations.hpp"

namespace bitnet::cpu_avx2 {

// Columns m_begin..m_end - 1 of the F32 rows dst, dst + dst_stride bytes, ...: for every
// activation row n of `a` (n_count rows), dst row n column m = dot of weight row m of `w` (Q8_0,
// Q4_0, Q4_K or Q6_K, rows `stride` bytes apart from row 0 at w, a.k elements each) with activation
// row n (from quantize_blocks_unsigned).
void mul_mat_block_vnni(int32_t type, const std::byte* w, size_t stride, const BlockActs& a,
                        int64_t n_count, float* dst, size_t dst_stride, int64_t m_begin,
                        int64_t m_end);

}  // namespace bitnet::cpu_avx2

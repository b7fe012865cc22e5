// The I2_S matmul with AVX-512 VNNI (the cpu-avx512 variant): vpdpbusd multiplies the 2-bit
// codes by int8 activations and accumulates in 32 bits in one instruction, on two 128-element
// blocks per 512-bit register.
#pragma once

#include <cstddef>
#include <cstdint>

#include "activations.hpp"

namespace bitnet::cpu_avx2 {

// Activation rows reordered so that each 64-byte load matches a 512-bit load of weights (two
// blocks): per block pair, per group g, 32 values of the first block then 32 of the second.
// An odd last block keeps its own order.
void pair_blocks(RowActs& acts);

// Weight rows and activation rows per tile.
inline constexpr int kTileRows = 4;

// dot of weight rows w, w + stride, ... (w_rows of them, k elements each, I2_S, per-tensor
// `scale`) with rows n0..n0+r-1 of pair_blocks()-ordered activations, as cpu-generic computes
// it to the bit, into out[i * kTileRows + n]; w_rows and r are 1 to kTileRows.
void dot_i2_s_vnni(const std::byte* w, size_t stride, int w_rows, int64_t k, float scale,
                   const RowActs& a, int64_t n0, int r, float* out);

}  // namespace bitnet::cpu_avx2

// The TQ2_0 matmul with AVX-512 VNNI (the cpu-avx512 variant): vpdpbusd on the 2-bit codes of a
// whole 256-element block per 512-bit load, in tiles of weight rows by activation rows as the
// I2_S kernel does. Each block has its own scale, so block sums are added in double in block
// order, as cpu-generic adds them: the results agree to the bit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "activations.hpp"
#include "i2s_vnni.hpp"

namespace bitnet::cpu_avx2 {

// Activation rows reordered to match a 64-byte load of a block's codes: per 256-element block,
// per shift l, elements 32l..32l+31 then 128+32l..128+32l+31.
void pair_tq2_0_halves(RowActs& acts);

// dot of TQ2_0 weight rows w, w + stride, ... (w_rows of them, k elements each) with rows
// n0..n0+r-1 of pair_tq2_0_halves()-ordered activations, into out[i * kTileRows + n]; w_rows
// and r are 1 to kTileRows.
void dot_tq2_0_vnni(const std::byte* w, size_t stride, int w_rows, int64_t k, const RowActs& a,
                    int64_t n0, int r, float* out);

}  // namespace bitnet::cpu_avx2

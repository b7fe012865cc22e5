// Decoding weight rows of every type cpu-generic runs, exactly: the reference every faster
// kernel is measured against.
#pragma once

#include <bitnet/backend.h>

#include <cstddef>
#include <cstdint>

namespace bitnet::cpu_generic {

// Weight types MUL_MAT and GET_ROWS accept: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K, I2_S,
// TQ2_0.
bool is_weight_type(int32_t type);
bool is_ternary(int32_t type);

// I2_S's one f32 scale, which sits in the tail after the tensor's last row.
float i2s_scale(const bitnet_tensor& w);

// Row `r` (flat over dims 1..3) of weight tensor `w`, decoded to `k = w.ne[0]` floats.
void dequantize_row(const bitnet_tensor& w, int64_t r, float* out);

// A ternary row as codes in {-1, 0, +1} and the scale of each group of `group` elements
// (I2_S: one scale per tensor, so group = k; TQ2_0: one per 256-element block).
struct TernaryRow {
  int64_t group = 0;
};
TernaryRow decode_ternary_row(const bitnet_tensor& w, int64_t r, int8_t* codes, float* scales);

}  // namespace bitnet::cpu_generic

#include "weights.hpp"

#include <bitnet/sdk/half.hpp>
#include <bitnet/sdk/types.hpp>

#include <cstring>
#include <vector>

#include "tensor_access.hpp"

namespace bitnet::cpu_generic {
namespace {

constexpr int64_t kQ8Block = 32;
constexpr int64_t kTq2Block = 256;
constexpr int64_t kI2sBlock = 128;

uint16_t load_u16(const std::byte* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

const std::byte* weight_row(const bitnet_tensor& w, int64_t r) {
  int64_t i1, i2, i3;
  unflatten(w, r, i1, i2, i3);
  return row_ptr(w, i1, i2, i3);
}

// I2_S: the f32 scale sits in the tail after the tensor's last row.
float i2s_scale(const bitnet_tensor& w) {
  const size_t row = *sdk::row_bytes(w.type, w.ne[0]);
  float s;
  std::memcpy(&s, sdk::host_data(w) + static_cast<size_t>(rows(w)) * row, sizeof s);
  return s;
}

// 128 elements in 32 bytes: byte j holds elements j, j+32, j+64, j+96 at shifts 6, 4, 2, 0;
// codes 0, 1, 2 mean -1, 0, +1.
void i2s_codes(const std::byte* row, int64_t k, int8_t* out) {
  const auto* q = reinterpret_cast<const uint8_t*>(row);
  for (int64_t b = 0; b < k / kI2sBlock; ++b, q += 32, out += kI2sBlock)
    for (int j = 0; j < 32; ++j)
      for (int g = 0; g < 4; ++g)
        out[g * 32 + j] = static_cast<int8_t>(((q[j] >> (6 - 2 * g)) & 3) - 1);
}

// ggml's TQ2_0: 64 bytes of codes then an fp16 scale per 256 elements; element 32*(4h+l)+m
// of a block sits in byte 32h+m at shift 2l, code c meaning c - 1.
void tq2_codes(const std::byte* row, int64_t k, int8_t* out, float* scales) {
  constexpr size_t kBlockBytes = 66;
  for (int64_t b = 0; b < k / kTq2Block; ++b, row += kBlockBytes, out += kTq2Block) {
    const auto* q = reinterpret_cast<const uint8_t*>(row);
    for (int h = 0; h < 2; ++h)
      for (int l = 0; l < 4; ++l)
        for (int m = 0; m < 32; ++m)
          out[32 * (4 * h + l) + m] = static_cast<int8_t>(((q[32 * h + m] >> (2 * l)) & 3) - 1);
    scales[b] = sdk::fp16_to_f32(load_u16(row + 64));
  }
}

}  // namespace

bool is_weight_type(int32_t type) {
  switch (type) {
    case BITNET_TYPE_F32:
    case BITNET_TYPE_F16:
    case BITNET_TYPE_BF16:
    case BITNET_TYPE_Q8_0:
    case BITNET_TYPE_I2_S:
    case BITNET_TYPE_TQ2_0:
      return true;
    default:
      return false;
  }
}

bool is_ternary(int32_t type) {
  return type == BITNET_TYPE_I2_S || type == BITNET_TYPE_TQ2_0;
}

TernaryRow decode_ternary_row(const bitnet_tensor& w, int64_t r, int8_t* codes, float* scales) {
  const std::byte* row = weight_row(w, r);
  if (w.type == BITNET_TYPE_I2_S) {
    i2s_codes(row, w.ne[0], codes);
    scales[0] = i2s_scale(w);
    return {w.ne[0]};
  }
  tq2_codes(row, w.ne[0], codes, scales);
  return {kTq2Block};
}

void dequantize_row(const bitnet_tensor& w, int64_t r, float* out) {
  const int64_t k = w.ne[0];
  const std::byte* row = weight_row(w, r);
  switch (w.type) {
    case BITNET_TYPE_F32:
      std::memcpy(out, row, static_cast<size_t>(k) * sizeof(float));
      return;
    case BITNET_TYPE_F16:
      for (int64_t i = 0; i < k; ++i)
        out[i] = sdk::fp16_to_f32(load_u16(row + 2 * i));
      return;
    case BITNET_TYPE_BF16:
      for (int64_t i = 0; i < k; ++i)
        out[i] = sdk::bf16_to_f32(load_u16(row + 2 * i));
      return;
    case BITNET_TYPE_Q8_0:
      for (int64_t b = 0; b < k / kQ8Block; ++b, row += 34) {
        const float d = sdk::fp16_to_f32(load_u16(row));
        for (int64_t i = 0; i < kQ8Block; ++i)
          out[b * kQ8Block + i] = d * static_cast<float>(static_cast<int8_t>(row[2 + i]));
      }
      return;
    case BITNET_TYPE_I2_S:
    case BITNET_TYPE_TQ2_0: {
      std::vector<int8_t> codes(static_cast<size_t>(k));
      std::vector<float> scales(static_cast<size_t>(k / kTq2Block) + 1);
      const TernaryRow t = decode_ternary_row(w, r, codes.data(), scales.data());
      for (int64_t i = 0; i < k; ++i)
        out[i] = static_cast<float>(codes[i]) * scales[i / t.group];
      return;
    }
  }
}

}  // namespace bitnet::cpu_generic

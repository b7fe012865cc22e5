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

// ggml's Q4_0: per 32 elements an fp16 scale, then 16 bytes whose low nibbles are elements
// 0..15 and high nibbles 16..31, value (nibble - 8) * d.
void q4_0_row(const std::byte* row, int64_t k, float* out) {
  for (int64_t b = 0; b < k / 32; ++b, row += 18, out += 32) {
    const float d = sdk::fp16_to_f32(load_u16(row));
    const auto* q = reinterpret_cast<const uint8_t*>(row + 2);
    for (int j = 0; j < 16; ++j) {
      out[j] = d * static_cast<float>((q[j] & 15) - 8);
      out[j + 16] = d * static_cast<float>((q[j] >> 4) - 8);
    }
  }
}

// ggml's Q4_K, 144 bytes per 256 elements: fp16 d and dmin, 12 bytes packing eight 6-bit
// (scale, min) pairs, 128 bytes of nibbles. Each 64 elements take 32 bytes: low nibbles are
// the first 32 (pair 2i), high nibbles the next 32 (pair 2i+1); value d*sc*q - dmin*m.
void q4_k_row(const std::byte* row, int64_t k, float* out) {
  for (int64_t b = 0; b < k / 256; ++b, row += 144) {
    const float d = sdk::fp16_to_f32(load_u16(row)), dmin = sdk::fp16_to_f32(load_u16(row + 2));
    const auto* sc = reinterpret_cast<const uint8_t*>(row + 4);
    const auto* q = reinterpret_cast<const uint8_t*>(row + 16);
    for (int j = 0; j < 8; ++j) {
      const int scale = j < 4 ? sc[j] & 63 : (sc[j + 4] & 15) | ((sc[j - 4] >> 6) << 4);
      const int min = j < 4 ? sc[j + 4] & 63 : (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
      const uint8_t* qj = q + 32 * (j / 2);
      for (int l = 0; l < 32; ++l) {
        const int nib = j % 2 ? qj[l] >> 4 : qj[l] & 15;
        *out++ = d * static_cast<float>(scale * nib) - dmin * static_cast<float>(min);
      }
    }
  }
}

// ggml's Q6_K, 210 bytes per 256 elements: 128 bytes of low nibbles, 64 of high 2-bit pairs,
// 16 int8 scales (one per 16 elements), fp16 d; value d * scale * (q - 32). Each 128 elements
// take 64 low bytes and 32 high bytes: element 32g+l of the half is nibble (g&1 ? l+32 : l),
// high part (g>>1 ? hi : lo) of ql and bits 2g of qh[l].
void q6_k_row(const std::byte* row, int64_t k, float* out) {
  for (int64_t b = 0; b < k / 256; ++b, row += 210) {
    const auto* ql = reinterpret_cast<const uint8_t*>(row);
    const auto* qh = ql + 128;
    const auto* sc = reinterpret_cast<const int8_t*>(row + 192);
    const float d = sdk::fp16_to_f32(load_u16(row + 208));
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8, out += 128)
      for (int g = 0; g < 4; ++g)
        for (int l = 0; l < 32; ++l) {
          const uint8_t lo = ql[l + (g & 1) * 32];
          const int q = ((g >> 1 ? lo >> 4 : lo & 15) | (((qh[l] >> (2 * g)) & 3) << 4)) - 32;
          out[32 * g + l] = d * static_cast<float>(sc[l / 16 + 2 * g] * q);
        }
  }
}

}  // namespace

float i2s_scale(const bitnet_tensor& w) {
  const size_t row = *sdk::row_bytes(w.type, w.ne[0]);
  float s;
  std::memcpy(&s, sdk::host_data(w) + static_cast<size_t>(rows(w)) * row, sizeof s);
  return s;
}

bool is_weight_type(int32_t type) {
  switch (type) {
    case BITNET_TYPE_F32:
    case BITNET_TYPE_F16:
    case BITNET_TYPE_BF16:
    case BITNET_TYPE_Q8_0:
    case BITNET_TYPE_Q4_0:
    case BITNET_TYPE_Q4_K:
    case BITNET_TYPE_Q6_K:
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
    case BITNET_TYPE_Q4_0:
      return q4_0_row(row, k, out);
    case BITNET_TYPE_Q4_K:
      return q4_k_row(row, k, out);
    case BITNET_TYPE_Q6_K:
      return q6_k_row(row, k, out);
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

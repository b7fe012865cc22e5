#include <bitnet/runtime/convert/quantize.hpp>
#include <bitnet/sdk/half.hpp>
#include <bitnet/sdk/types.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

namespace bitnet::convert {
namespace {

template <class T>
void put(std::vector<std::byte>& out, T v) {
  const auto* p = reinterpret_cast<const std::byte*>(&v);
  out.insert(out.end(), p, p + sizeof v);
}

Error bad(const std::string& what) {
  return make_error(BITNET_STATUS_INVALID_ARGUMENT, what);
}

// The magnitude shared by every non-zero value of `v`, or the first value that breaks it.
Result<float> ternary_scale(std::span<const float> v, size_t first_index, const char* per) {
  float s = 0;
  for (float x : v)
    s = std::max(s, std::fabs(x));
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] != 0 && std::fabs(v[i]) != s)
      return bad("value " + std::to_string(v[i]) + " at element " +
                 std::to_string(first_index + i) + " is not 0 or +-" + std::to_string(s) +
                 ", so the values are not ternary with one scale " + per);
  return s;
}

// 0, 1, 2 for -s, 0, +s.
uint8_t code(float x) {
  return x > 0 ? 2 : x < 0 ? 0 : 1;
}

void encode_q8_0(std::span<const float> v, std::vector<std::byte>& out) {
  for (size_t b = 0; b < v.size(); b += 32) {
    float amax = 0;
    for (size_t i = b; i < b + 32; ++i)
      amax = std::max(amax, std::fabs(v[i]));
    // ggml's quantize_row_q8_0_ref: scale by the reciprocal and round half away from zero.
    const float d = amax / 127, id = d ? 1 / d : 0;
    put(out, sdk::f32_to_fp16(d));
    for (size_t i = b; i < b + 32; ++i)
      put(out, static_cast<int8_t>(std::lround(v[i] * id)));
  }
}

// ggml's quantize_row_q4_0_ref: d = the block's signed extreme / -8, so that value maps to
// nibble 0; nibbles are x / d + 8 rounded (by +8.5 and truncation), at most 15. Low nibbles
// hold elements 0..15, high nibbles 16..31.
void encode_q4_0(std::span<const float> v, std::vector<std::byte>& out) {
  for (size_t b = 0; b < v.size(); b += 32) {
    float extreme = 0;
    for (size_t i = b; i < b + 32; ++i)
      if (std::fabs(v[i]) > std::fabs(extreme)) extreme = v[i];
    const float d = extreme / -8, id = d ? 1 / d : 0;
    put(out, sdk::f32_to_fp16(d));
    auto nibble = [&](float x) {
      return static_cast<uint8_t>(std::min(15, static_cast<int>(x * id + 8.5f)));
    };
    for (size_t j = 0; j < 16; ++j)
      put(out, static_cast<uint8_t>(nibble(v[b + j]) | nibble(v[b + j + 16]) << 4));
  }
}

Result<> encode_i2_s(std::span<const float> v, std::vector<std::byte>& out) {
  Result<float> s = ternary_scale(v, 0, "per tensor (I2_S has one)");
  if (!s) return s.error();
  // Byte j of a 128-element block holds elements j, j+32, j+64, j+96 at shifts 6, 4, 2, 0.
  for (size_t b = 0; b < v.size(); b += 128)
    for (size_t j = 0; j < 32; ++j)
      put(out, static_cast<uint8_t>(code(v[b + j]) << 6 | code(v[b + j + 32]) << 4 |
                                    code(v[b + j + 64]) << 2 | code(v[b + j + 96])));
  put(out, *s);
  out.resize(out.size() + sdk::kI2sTailBytes - sizeof(float));
  return {};
}

Result<> encode_tq2_0(std::span<const float> v, std::vector<std::byte>& out) {
  for (size_t b = 0; b < v.size(); b += 256) {
    Result<float> s = ternary_scale(v.subspan(b, 256), b, "per 256-element block (TQ2_0 has one)");
    if (!s) return s.error();
    // Element 32*(4h+l)+m sits in byte 32h+m at shift 2l.
    uint8_t qs[64] = {};
    for (size_t e = 0; e < 256; ++e)
      qs[e / 128 * 32 + e % 32] |= static_cast<uint8_t>(code(v[b + e]) << (2 * (e % 128 / 32)));
    for (uint8_t q : qs)
      put(out, q);
    put(out, sdk::f32_to_fp16(*s));
  }
  return {};
}

}  // namespace

Result<std::vector<std::byte>> encode_tensor(std::span<const float> v, int64_t row, int32_t type) {
  const int64_t block = type == BITNET_TYPE_Q8_0 || type == BITNET_TYPE_Q4_0 ? 32
                        : type == BITNET_TYPE_I2_S                           ? 128
                        : type == BITNET_TYPE_TQ2_0                          ? 256
                                                                             : 1;
  if (row < 1 || row % block != 0)
    return make_error(BITNET_STATUS_UNSUPPORTED, "rows of " + std::to_string(row) +
                                                     " elements are not a whole number of " +
                                                     std::to_string(block) + "-element " +
                                                     std::string(sdk::type_name(type)) + " blocks");
  std::vector<std::byte> out;
  switch (type) {
    case BITNET_TYPE_F32:
      out.resize(v.size_bytes());
      std::memcpy(out.data(), v.data(), v.size_bytes());
      return out;
    case BITNET_TYPE_F16:
    case BITNET_TYPE_BF16:
      out.reserve(2 * v.size());
      for (size_t i = 0; i < v.size(); ++i) {
        if (type == BITNET_TYPE_F16 && std::fabs(v[i]) > 65504)
          return bad("value " + std::to_string(v[i]) + " at element " + std::to_string(i) +
                     " is beyond F16's range (+-65504)");
        put(out, type == BITNET_TYPE_F16 ? sdk::f32_to_fp16(v[i]) : sdk::f32_to_bf16(v[i]));
      }
      return out;
    case BITNET_TYPE_Q8_0:
      encode_q8_0(v, out);
      return out;
    case BITNET_TYPE_Q4_0:
      encode_q4_0(v, out);
      return out;
    case BITNET_TYPE_I2_S:
      if (Result<> r = encode_i2_s(v, out); !r) return r.error();
      return out;
    case BITNET_TYPE_TQ2_0:
      if (Result<> r = encode_tq2_0(v, out); !r) return r.error();
      return out;
  }
  return make_error(BITNET_STATUS_UNSUPPORTED,
                    "cannot write tensors of type " + std::string(sdk::type_name(type)));
}

float ternarize_absmean(std::span<float> values) {
  double sum = 0;
  for (float x : values)
    sum += std::fabs(x);
  const float s = std::max(values.empty() ? 0.0f : static_cast<float>(sum / values.size()), 1e-5f);
  for (float& x : values)
    x = std::clamp(std::nearbyint(x / s), -1.0f, 1.0f) * s;
  return s;
}

}  // namespace bitnet::convert

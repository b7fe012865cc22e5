#include "random_data.hpp"

#include <bitnet/sdk/half.hpp>
#include <bitnet/sdk/types.hpp>

namespace neon_test {
namespace {

template <class T>
void put(std::vector<std::byte>& out, T v) {
  const auto* p = reinterpret_cast<const std::byte*>(&v);
  out.insert(out.end(), p, p + sizeof v);
}

// The spread of the values a block's codes stand for, in units of its scale, for random codes
// and random sub-block scales: so that every type's values come out about `typical` in size.
float code_spread(int32_t type) {
  switch (type) {
    case BITNET_TYPE_Q8_0:
      return 74;  // int8 codes
    case BITNET_TYPE_Q4_0:
      return 4.6f;  // nibble - 8
    case BITNET_TYPE_Q4_K:
      return 240;  // 6-bit scale (~32) times nibble (~7.5)
    case BITNET_TYPE_Q6_K:
      return 1350;  // int8 scale (~73) times 6-bit code - 32 (~18.5)
    default:
      return 1;
  }
}

}  // namespace

bitnet_tensor tensor(int32_t type, std::initializer_list<int64_t> ne) {
  bitnet_tensor t{};
  t.struct_size = sizeof t;
  t.type = type;
  int i = 0;
  for (int64_t n : ne)
    t.ne[i++] = n;
  for (; i < BITNET_MAX_DIMS; ++i)
    t.ne[i] = 1;
  t.nb[0] = bitnet::sdk::type_traits(type)->block_bytes;
  t.nb[1] = bitnet::sdk::row_bytes(type, t.ne[0]).value_or(0);
  for (int d = 2; d < BITNET_MAX_DIMS; ++d)
    t.nb[d] = t.nb[d - 1] * static_cast<size_t>(t.ne[d - 1]);
  return t;
}

size_t bytes_of(const bitnet_tensor& t) {
  return bitnet::sdk::tensor_bytes(t.type, t.ne, BITNET_MAX_DIMS).value();
}

std::vector<std::byte> random_weights(int32_t type, int64_t n, std::mt19937& rng, float typical) {
  using namespace bitnet::sdk;
  const float unit = typical / code_spread(type);
  std::uniform_real_distribution<float> f(-1.7f * typical, 1.7f * typical),
      scale(0.5f * unit, 1.5f * unit);
  std::uniform_int_distribution<int> byte(0, 255), code(0, 2);
  std::vector<std::byte> out;
  auto bytes = [&](int count) {
    for (int i = 0; i < count; ++i)
      put(out, static_cast<uint8_t>(byte(rng)));
  };
  auto ternary_bytes = [&](int count) {
    for (int i = 0; i < count; ++i)
      put(out, static_cast<uint8_t>(code(rng) << 6 | code(rng) << 4 | code(rng) << 2 | code(rng)));
  };
  switch (type) {
    case BITNET_TYPE_F32:
      for (int64_t i = 0; i < n; ++i)
        put(out, f(rng));
      break;
    case BITNET_TYPE_F16:
      for (int64_t i = 0; i < n; ++i)
        put(out, f32_to_fp16(f(rng)));
      break;
    case BITNET_TYPE_BF16:
      for (int64_t i = 0; i < n; ++i)
        put(out, f32_to_bf16(f(rng)));
      break;
    case BITNET_TYPE_Q8_0:
    case BITNET_TYPE_Q4_0:
      for (int64_t b = 0; b < n / 32; ++b) {
        put(out, f32_to_fp16(scale(rng)));
        bytes(type == BITNET_TYPE_Q8_0 ? 32 : 16);
      }
      break;
    case BITNET_TYPE_Q4_K:
      for (int64_t b = 0; b < n / 256; ++b) {
        // dmin about 7.5 d centres the values: the mean nibble is 7.5 and sc, m share a range.
        put(out, f32_to_fp16(scale(rng)));
        put(out, f32_to_fp16(7.5f * scale(rng)));
        bytes(12 + 128);
      }
      break;
    case BITNET_TYPE_Q6_K:
      for (int64_t b = 0; b < n / 256; ++b) {
        bytes(128 + 64 + 16);
        put(out, f32_to_fp16(scale(rng)));
      }
      break;
    case BITNET_TYPE_TQ2_0:
      for (int64_t b = 0; b < n / 256; ++b) {
        ternary_bytes(64);
        put(out, f32_to_fp16(scale(rng)));
      }
      break;
    case BITNET_TYPE_I2_S:
      ternary_bytes(static_cast<int>(n / 4));
      put(out, scale(rng));
      out.resize(out.size() + kI2sTailBytes - 4);
      break;
  }
  return out;
}

}  // namespace neon_test

#include "op_case.hpp"

#include <bitnet/sdk/half.hpp>
#include <bitnet/sdk/types.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace bitnet_test {
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

void reshape(bitnet_tensor& t, std::initializer_list<int64_t> ne) {
  const bitnet_tensor c = bitnet::contiguous_tensor(t.type, ne);
  std::copy(std::begin(c.ne), std::end(c.ne), std::begin(t.ne));
  std::copy(std::begin(c.nb), std::end(c.nb), std::begin(t.nb));
}

}  // namespace

bool block_quantised(int32_t type) {
  return type == BITNET_TYPE_Q8_0 || type == BITNET_TYPE_Q4_0 || type == BITNET_TYPE_Q4_K ||
         type == BITNET_TYPE_Q6_K;
}

bool ternary(int32_t type) {
  return type == BITNET_TYPE_I2_S || type == BITNET_TYPE_TQ2_0;
}

double op_bound(int32_t weights) {
  return block_quantised(weights) ? 1e-2 : 1e-5;
}

double model_bound(int32_t weights) {
  if (ternary(weights)) return 1e-6;
  return block_quantised(weights) ? 5e-2 : 1e-4;
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

size_t bytes_of(const bitnet_tensor& t) {
  return bitnet::sdk::tensor_bytes(t.type, t.ne, BITNET_MAX_DIMS).value();
}

OpCase::OpCase(int32_t op, int32_t type, std::mt19937& rng, int64_t n_act, int64_t batch,
               int64_t width)
    : probe(op, type) {
  bitnet_tensor* leaves = probe.leaves;
  if (op == BITNET_OP_MUL_MAT || op == BITNET_OP_GET_ROWS) {
    const int64_t block = bitnet::sdk::type_traits(type)->block_elems;
    const int64_t k = width ? width
                      : type == BITNET_TYPE_I2_S
                          ? 384
                          : std::max<int64_t>(block, 32) * 7 + (block == 1 ? 3 : 0);
    reshape(leaves[0], {k, 37});
    if (op == BITNET_OP_MUL_MAT) {
      reshape(leaves[1], {k, n_act, batch});
      reshape(probe.node, {37, n_act, batch});
    } else {
      reshape(leaves[1], {3});
      reshape(probe.node, {k, 3});
    }
  }
  if (op == BITNET_OP_ATTENTION && n_act > leaves[1].ne[2]) {
    constexpr int64_t queries = 8;
    reshape(leaves[0], {leaves[0].ne[0], leaves[0].ne[1], queries});
    reshape(leaves[1], {leaves[1].ne[0], leaves[1].ne[1], n_act});
    reshape(leaves[2], {leaves[2].ne[0], leaves[2].ne[1], n_act});
    reshape(leaves[3], {queries});
    reshape(probe.node, {probe.node.ne[0], probe.node.ne[1], queries});
  }
  fill(rng);
}

OpCase::OpCase(int32_t op, int32_t type, std::mt19937& rng, std::initializer_list<int64_t> shape,
               std::initializer_list<int64_t> src1, float param)
    : probe(op, type) {
  bitnet_tensor* leaves = probe.leaves;
  reshape(leaves[0], shape);
  reshape(probe.node, shape);
  if (src1.size()) {
    reshape(leaves[1], src1);
    probe.node.src[1] = &leaves[1];
  }
  probe.node.op_params[0] = param;
  fill(rng);
}

OpCase::OpCase(std::mt19937& rng, const Attention& a)
    : probe(BITNET_OP_ATTENTION, BITNET_TYPE_F32) {
  bitnet_tensor* leaves = probe.leaves;
  const auto queries = static_cast<int64_t>(a.positions.size());
  leaves[1].type = leaves[2].type = a.kv_type;
  reshape(leaves[0], {a.head_dim, a.heads, queries});
  reshape(leaves[1], {a.head_dim, a.kv_heads, a.keys});
  reshape(leaves[2], {a.head_dim, a.kv_heads, a.keys});
  reshape(leaves[3], {queries});
  reshape(probe.node, {a.head_dim, a.heads, queries});
  data.push_back(random_weights(BITNET_TYPE_F32, a.head_dim * a.heads * queries, rng));
  for (int i = 1; i <= 2; ++i)
    data.push_back(random_weights(a.kv_type, a.head_dim * a.kv_heads * a.keys, rng));
  std::vector<std::byte> ids;
  for (int32_t p : a.positions)
    put(ids, p);
  data.push_back(std::move(ids));
}

void OpCase::fill(std::mt19937& rng) {
  const int32_t op = probe.node.op;
  const bitnet_tensor* leaves = probe.leaves;
  for (int i = 0; i < BITNET_MAX_SRC && probe.node.src[i]; ++i) {
    const bitnet_tensor& t = leaves[i];
    const int64_t elems = t.ne[0] * t.ne[1] * t.ne[2] * t.ne[3];
    if (t.type != BITNET_TYPE_I32) {
      data.push_back(random_weights(t.type, elems, rng));
      continue;
    }
    // Row ids within the table; positions within the keys (the probe's 8 for ROPE).
    const int64_t limit = op == BITNET_OP_GET_ROWS    ? leaves[0].ne[1]
                          : op == BITNET_OP_ATTENTION ? leaves[1].ne[2]
                                                      : 8;
    std::vector<std::byte> ids;
    for (int64_t j = 0; j < elems; ++j)
      put(ids, static_cast<int32_t>(limit - 1 - 2 * j));
    data.push_back(std::move(ids));
  }
}

std::vector<float> OpCase::values(const std::vector<std::byte>& raw) const {
  const bool f16 = probe.node.type == BITNET_TYPE_F16;
  std::vector<float> out(raw.size() / (f16 ? 2 : 4));
  for (size_t i = 0; i < out.size(); ++i) {
    if (f16) {
      uint16_t h;
      std::memcpy(&h, raw.data() + 2 * i, 2);
      out[i] = bitnet::sdk::fp16_to_f32(h);
    } else {
      std::memcpy(&out[i], raw.data() + 4 * i, 4);
    }
  }
  return out;
}

double relative_error(const std::vector<float>& got, const std::vector<float>& want) {
  constexpr double kNever = std::numeric_limits<double>::infinity();
  if (got.size() != want.size()) return kNever;
  double scale = 0, diff = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(got[i])) return kNever;
    scale = std::max(scale, std::abs(double{want[i]}));
    diff = std::max(diff, std::abs(double{got[i]} - want[i]));
  }
  return scale > 0 ? diff / scale : kNever;
}

}  // namespace bitnet_test

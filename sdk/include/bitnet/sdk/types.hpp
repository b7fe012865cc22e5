// Names and storage sizes of the tensor element types, shared by the runtime and plugins so both
// agree on how many bytes a row of a quantised type takes.
#pragma once

#include <bitnet/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace bitnet::sdk {

struct TypeTraits {
  int32_t id;
  std::string_view name;
  int64_t block_elems;  // elements per block
  size_t block_bytes;   // bytes per block
};

inline constexpr TypeTraits kTypeTraits[] = {
    {BITNET_TYPE_F32, "F32", 1, 4},
    {BITNET_TYPE_F16, "F16", 1, 2},
    {BITNET_TYPE_Q4_0, "Q4_0", 32, 18},
    {BITNET_TYPE_Q4_1, "Q4_1", 32, 20},
    {BITNET_TYPE_Q5_0, "Q5_0", 32, 22},
    {BITNET_TYPE_Q5_1, "Q5_1", 32, 24},
    {BITNET_TYPE_Q8_0, "Q8_0", 32, 34},
    {BITNET_TYPE_Q8_1, "Q8_1", 32, 36},
    {BITNET_TYPE_Q2_K, "Q2_K", 256, 84},
    {BITNET_TYPE_Q3_K, "Q3_K", 256, 110},
    {BITNET_TYPE_Q4_K, "Q4_K", 256, 144},
    {BITNET_TYPE_Q5_K, "Q5_K", 256, 176},
    {BITNET_TYPE_Q6_K, "Q6_K", 256, 210},
    {BITNET_TYPE_Q8_K, "Q8_K", 256, 292},
    {BITNET_TYPE_I8, "I8", 1, 1},
    {BITNET_TYPE_I16, "I16", 1, 2},
    {BITNET_TYPE_I32, "I32", 1, 4},
    {BITNET_TYPE_I64, "I64", 1, 8},
    {BITNET_TYPE_F64, "F64", 1, 8},
    {BITNET_TYPE_BF16, "BF16", 1, 2},
    {BITNET_TYPE_TQ1_0, "TQ1_0", 256, 54},
    {BITNET_TYPE_TQ2_0, "TQ2_0", 256, 66},
    // Row bytes only; the per-tensor 32-byte tail is added by whoever sizes the whole tensor.
    {BITNET_TYPE_I2_S, "I2_S", 4, 1},
};

inline constexpr const TypeTraits* type_traits(int32_t id) {
  for (const auto& t : kTypeTraits)
    if (t.id == id) return &t;
  return nullptr;
}

inline constexpr std::string_view type_name(int32_t id) {
  const TypeTraits* t = type_traits(id);
  return t ? t->name : std::string_view{"unknown"};
}

// Bytes of one row of `elems` elements, or nullopt when the type is unknown, `elems` is not a
// whole number of blocks or the size overflows (a file claiming 2^62 F32 elements must not
// pass for a few bytes).
inline constexpr std::optional<size_t> row_bytes(int32_t id, int64_t elems) {
  const TypeTraits* t = type_traits(id);
  if (!t || elems < 0 || elems % t->block_elems != 0) return std::nullopt;
  size_t bytes = 0;
  if (__builtin_mul_overflow(static_cast<size_t>(elems / t->block_elems),
                             static_cast<size_t>(t->block_bytes), &bytes))
    return std::nullopt;
  return bytes;
}

// Bytes the I2_S format appends to a tensor: 32, of which the first 4 hold the f32 scale.
inline constexpr size_t kI2sTailBytes = 32;

// Bytes of a whole tensor of `n_dims` dimensions (ne[0] innermost), including the I2_S tail;
// nullopt for an unknown type, a dimension below 1, rows of partial blocks, or overflow.
inline constexpr std::optional<size_t> tensor_bytes(int32_t id, const int64_t* ne, int n_dims) {
  if (n_dims < 1) return std::nullopt;
  for (int i = 0; i < n_dims; ++i)
    if (ne[i] < 1) return std::nullopt;
  std::optional<size_t> total = row_bytes(id, ne[0]);
  if (!total) return std::nullopt;
  for (int i = 1; i < n_dims; ++i)
    if (__builtin_mul_overflow(*total, static_cast<size_t>(ne[i]), &*total)) return std::nullopt;
  if (id == BITNET_TYPE_I2_S && __builtin_add_overflow(*total, kI2sTailBytes, &*total))
    return std::nullopt;
  return total;
}

}  // namespace bitnet::sdk

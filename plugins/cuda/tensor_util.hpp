// Host-side facts about graph tensors that the launchers and the fusion rules share: shapes,
// device addresses and whether two tensors' bytes can meet.
#pragma once

#include <bitnet/backend.h>
#include <bitnet/sdk/types.hpp>

#include <cstdint>
#include <utility>

#include "buffer.hpp"
#include "kernels.hpp"

namespace bitnet::cuda {

inline int64_t rows(const bitnet_tensor& t) {
  return t.ne[1] * t.ne[2] * t.ne[3];
}

inline bool flat(const bitnet_tensor& t) {
  return t.ne[2] == 1 && t.ne[3] == 1;
}

inline DevTensor dev(const bitnet_tensor& t) {
  DevTensor d;
  d.data = device_data(t);
  d.type = t.type;
  for (int i = 0; i < 4; ++i) {
    d.ne[i] = t.ne[i];
    d.nb[i] = t.nb[i];
  }
  return d;
}

inline const int32_t* ints(const bitnet_tensor& t) {
  return reinterpret_cast<const int32_t*>(device_data(t));
}

// The bytes a tensor spans, first to last.
inline std::pair<const char*, const char*> extent(const bitnet_tensor& t) {
  const char* begin = device_data(t);
  size_t span = *sdk::row_bytes(t.type, t.ne[0]);
  for (int d = 1; d < BITNET_MAX_DIMS; ++d)
    span += static_cast<size_t>(t.ne[d] - 1) * t.nb[d];
  return {begin, begin + span};
}

inline bool overlap(const bitnet_tensor& a, const bitnet_tensor& b) {
  const auto [a0, a1] = extent(a);
  const auto [b0, b1] = extent(b);
  return a0 < b1 && b0 < a1;
}

// Whether `count` floats from `p` and the bytes of `t` meet.
inline bool overlap_bytes(const float* p, int64_t count, const bitnet_tensor& t) {
  const auto [b0, b1] = extent(t);
  const char* a0 = reinterpret_cast<const char*>(p);
  return a0 < b1 && b0 < a0 + static_cast<size_t>(count) * sizeof(float);
}

inline bool same_layout(const bitnet_tensor& a, const bitnet_tensor& b) {
  for (int d = 0; d < BITNET_MAX_DIMS; ++d)
    if (a.ne[d] != b.ne[d] || (a.ne[d] > 1 && a.nb[d] != b.nb[d])) return false;
  return device_data(a) == device_data(b);
}

inline bool ternary_matmul(const bitnet_tensor& node) {
  return node.op == BITNET_OP_MUL_MAT &&
         (node.src[0]->type == BITNET_TYPE_I2_S || node.src[0]->type == BITNET_TYPE_TQ2_0);
}

}  // namespace bitnet::cuda

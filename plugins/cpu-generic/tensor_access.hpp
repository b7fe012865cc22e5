// Addressing tensors in host buffers, and running a body over the rows of a tensor on the
// host's thread pool. Shared by the op files of cpu-generic.
#pragma once

#include <bitnet/backend.h>
#include <bitnet/sdk/backend.hpp>
#include <bitnet/sdk/half.hpp>
#include <bitnet/sdk/plugin.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

namespace bitnet::cpu_generic {

inline std::byte* row_ptr(const bitnet_tensor& t, int64_t i1, int64_t i2 = 0, int64_t i3 = 0) {
  return sdk::host_data(t) + i1 * t.nb[1] + i2 * t.nb[2] + i3 * t.nb[3];
}

inline float* f32_row(const bitnet_tensor& t, int64_t i1, int64_t i2 = 0, int64_t i3 = 0) {
  return reinterpret_cast<float*>(row_ptr(t, i1, i2, i3));
}

inline int64_t rows(const bitnet_tensor& t) {
  return t.ne[1] * t.ne[2] * t.ne[3];
}

// Splits a flat row index into (i1, i2, i3) of a tensor.
inline void unflatten(const bitnet_tensor& t, int64_t r, int64_t& i1, int64_t& i2, int64_t& i3) {
  i1 = r % t.ne[1];
  i2 = (r / t.ne[1]) % t.ne[2];
  i3 = r / (t.ne[1] * t.ne[2]);
}

// f(i1, i2, i3) for every row of `t`, rows spread over the host's threads. Each row is
// computed by one thread alone, so results never depend on the thread count.
template <class F>
void for_rows(const bitnet_tensor& t, F&& f) {
  sdk::plugin_host().parallel_for(0, static_cast<size_t>(rows(t)), 1, [&](size_t b, size_t e) {
    for (size_t r = b; r < e; ++r) {
      int64_t i1, i2, i3;
      unflatten(t, static_cast<int64_t>(r), i1, i2, i3);
      f(i1, i2, i3);
    }
  });
}

// Row 0 of the weight matrix that batch (i2, i3) of MUL_MAT's activations `x` multiplies
// (dims 2 and 3 of x are multiples of w's).
inline const std::byte* weight_batch(const bitnet_tensor& w, const bitnet_tensor& x, int64_t i2,
                                     int64_t i3) {
  return row_ptr(w, 0, i2 / (x.ne[2] / w.ne[2]), i3 / (x.ne[3] / w.ne[3]));
}

// A parallel_for grain over `rows`: enough chunks to balance the threads, few enough that each
// covers many rows.
inline size_t balanced_grain(size_t rows) {
  return std::max<size_t>(1, rows / (8 * static_cast<size_t>(sdk::plugin_host().max_threads())));
}

// Element i of a row of F32 or F16 (a KV cache may be either).
inline float kv_element(const std::byte* row, int32_t type, int64_t i) {
  if (type == BITNET_TYPE_F32) {
    float v;
    std::memcpy(&v, row + 4 * i, sizeof v);
    return v;
  }
  uint16_t h;
  std::memcpy(&h, row + 2 * i, sizeof h);
  return sdk::fp16_to_f32(h);
}

inline std::string shape(const bitnet_tensor& t) {
  std::string s = "[";
  for (int i = 0; i < BITNET_MAX_DIMS; ++i)
    s.append(i ? ", " : "").append(std::to_string(t.ne[i]));
  return s + "]";
}

inline bool same_shape(const bitnet_tensor& a, const bitnet_tensor& b) {
  for (int i = 0; i < BITNET_MAX_DIMS; ++i)
    if (a.ne[i] != b.ne[i]) return false;
  return true;
}

// op_params[i] as an enum value; -1 when it is not a whole number.
inline int int_param(const bitnet_tensor& node, int i) {
  const float v = node.op_params[i];
  return v == static_cast<float>(static_cast<int>(v)) ? static_cast<int>(v) : -1;
}

[[noreturn]] inline void bad_input(const bitnet_tensor& node, const std::string& what) {
  throw sdk::Error(BITNET_STATUS_INVALID_ARGUMENT,
                   std::string(node.name ? node.name : "(unnamed)") + ": " + what);
}

}  // namespace bitnet::cpu_generic

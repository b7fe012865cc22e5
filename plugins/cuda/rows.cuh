// Rows of a DevTensor as row-wise kernels walk them: row r is (i1, i2, i3) in ggml's order.
#pragma once

#include <cuda_fp16.h>

#include "kernels.hpp"

namespace bitnet::cuda {

// Whether p is on a 16-byte boundary (where one 16-byte load or copy may read it).
__host__ __device__ __forceinline__ bool aligned16(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

// r is below 2^31 (check_node refuses more rows): 32-bit divisions, a fraction of 64-bit ones.
__device__ __forceinline__ char* row_of(const DevTensor& t, int64_t r) {
  const int n1 = static_cast<int>(t.ne[1]), n2 = static_cast<int>(t.ne[2]);
  const int ri = static_cast<int>(r), q = ri / n1;
  return t.data + static_cast<int64_t>(ri - q * n1) * t.nb[1] +
         static_cast<int64_t>(q % n2) * t.nb[2] + static_cast<int64_t>(q / n2) * t.nb[3];
}

// Element i of a CPY destination row, F16 or F32.
__device__ __forceinline__ void store_element(char* row, int32_t type, int64_t i, float v) {
  if (type == BITNET_TYPE_F16)
    reinterpret_cast<__half*>(row)[i] = __float2half_rn(v);
  else
    reinterpret_cast<float*>(row)[i] = v;
}

// Where a Dynamic value puts a CPY's destination this step.
__device__ __forceinline__ char* address_of(Dynamic d) {
  return reinterpret_cast<char*>(d.values[d.slot]);
}

// Pair i of a ROPE row (elements xa, xb) rotated by pos * base^(-2i/dims). The angle is worked
// out in double as the reference does (positions reach thousands of radians, where float loses
// the rotation). The ROPE kernel and the matvec that finishes with a ROPE share this.
__device__ __forceinline__ double2 rope_rotation(int32_t pos, int i, int dims, float base) {
  const double theta = pos * pow(static_cast<double>(base), -2.0 * static_cast<double>(i) / dims);
  double s, c;
  sincos(theta, &s, &c);
  return {c, s};
}

// (xa, xb) turned by a rope_rotation (cos, sin).
__device__ __forceinline__ float2 rotate(float xa, float xb, double2 r) {
  return {static_cast<float>(xa * r.x - xb * r.y), static_cast<float>(xa * r.y + xb * r.x)};
}

__device__ __forceinline__ float2 rotate_pair(float xa, float xb, int32_t pos, int i, int dims,
                                              float base) {
  return rotate(xa, xb, rope_rotation(pos, i, dims, base));
}

// GLU of one element: act(g) * u, SiLU or ReLU-squared. The GLU kernel and the gate/up matvec
// that finishes with it share this, so fusing changes no result.
__device__ __forceinline__ float glu_element(float g, float u, bool silu) {
  return (silu ? g / (1.0f + expf(-g)) : (g > 0.0f ? g * g : 0.0f)) * u;
}

}  // namespace bitnet::cuda

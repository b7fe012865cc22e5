// What both ATTENTION kernels (attention.cu, attention_prefill.cu) read K and V rows with.
// Internal linkage: each kernel file gets its own copy.
#pragma once

#include <bitnet/types.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace bitnet::cuda {
namespace {

// Elements i..i+7 of a K or V row, F16 or F32, in 16-byte loads where aligned.
__device__ __forceinline__ void kv8(const char* row, int32_t type, int i, int hd, float* out) {
  if (type == BITNET_TYPE_F16) {
    const __half* p = reinterpret_cast<const __half*>(row) + i;
    if (i + 8 <= hd && (reinterpret_cast<uintptr_t>(p) & 15) == 0) {
      const uint4 raw = *reinterpret_cast<const uint4*>(p);
      const __half2* h = reinterpret_cast<const __half2*>(&raw);
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const float2 f = __half22float2(h[e]);
        out[2 * e] = f.x;
        out[2 * e + 1] = f.y;
      }
      return;
    }
#pragma unroll
    for (int e = 0; e < 8; ++e)
      out[e] = i + e < hd ? __half2float(p[e]) : 0.0f;
    return;
  }
  const float* p = reinterpret_cast<const float*>(row) + i;
  if (i + 8 <= hd && (reinterpret_cast<uintptr_t>(p) & 15) == 0) {
    const float4 a = reinterpret_cast<const float4*>(p)[0],
                 b = reinterpret_cast<const float4*>(p)[1];
    out[0] = a.x, out[1] = a.y, out[2] = a.z, out[3] = a.w;
    out[4] = b.x, out[5] = b.y, out[6] = b.z, out[7] = b.w;
    return;
  }
#pragma unroll
  for (int e = 0; e < 8; ++e)
    out[e] = i + e < hd ? p[e] : 0.0f;
}

}  // namespace
}  // namespace bitnet::cuda

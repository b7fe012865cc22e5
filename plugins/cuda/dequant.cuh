// Device-side decoding of every weight type, eight consecutive elements at a time (the first
// index a multiple of 8). The layouts are cpu-generic's (plugins/cpu-generic/weights.cpp);
// these are their GPU form and are checked against it by the gpu conformance tests.
#pragma once

#include <bitnet/types.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace bitnet::cuda {

__device__ __forceinline__ float half_at(const uint8_t* p) {
  __half_raw r;
  r.x = static_cast<unsigned short>(p[0] | (p[1] << 8));
  return __half2float(__half(r));
}

__device__ __forceinline__ float bf16_at(const uint8_t* p) {
  return __uint_as_float(static_cast<uint32_t>(p[0] | (p[1] << 8)) << 16);
}

// Weights of type T at elements i..i+7 of a row; `i2s` is an I2_S tensor's scale.
template <int T>
__device__ __forceinline__ void load8(const uint8_t* row, int64_t i, float i2s, float* out) {
  if constexpr (T == BITNET_TYPE_F32) {
    const float* p = reinterpret_cast<const float*>(row) + i;
    if ((reinterpret_cast<uintptr_t>(p) & 15) == 0) {
      const float4 a = reinterpret_cast<const float4*>(p)[0];
      const float4 b = reinterpret_cast<const float4*>(p)[1];
      out[0] = a.x, out[1] = a.y, out[2] = a.z, out[3] = a.w;
      out[4] = b.x, out[5] = b.y, out[6] = b.z, out[7] = b.w;
      return;
    }
#pragma unroll
    for (int e = 0; e < 8; ++e)
      out[e] = p[e];
  } else if constexpr (T == BITNET_TYPE_F16 || T == BITNET_TYPE_BF16) {
    const uint16_t* p = reinterpret_cast<const uint16_t*>(row) + i;
    uint16_t h8[8];
    if ((reinterpret_cast<uintptr_t>(p) & 15) == 0) {
      const uint4 v = *reinterpret_cast<const uint4*>(p);
      const uint32_t words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
      for (int e = 0; e < 8; ++e)
        h8[e] = static_cast<uint16_t>(words[e / 2] >> (16 * (e % 2)));
    } else {
#pragma unroll
      for (int e = 0; e < 8; ++e)
        h8[e] = p[e];
    }
#pragma unroll
    for (int e = 0; e < 8; ++e) {
      const uint16_t h = h8[e];
      if constexpr (T == BITNET_TYPE_F16)
        out[e] = __half2float(__ushort_as_half(h));
      else
        out[e] = __uint_as_float(static_cast<uint32_t>(h) << 16);
    }
  } else if constexpr (T == BITNET_TYPE_Q8_0) {
    const uint8_t* b = row + (i / 32) * 34;
    const float d = half_at(b);
    const int8_t* q = reinterpret_cast<const int8_t*>(b + 2) + i % 32;
#pragma unroll
    for (int e = 0; e < 8; ++e)
      out[e] = d * static_cast<float>(q[e]);
  } else if constexpr (T == BITNET_TYPE_Q4_0) {
    const uint8_t* b = row + (i / 32) * 18;
    const float d = half_at(b);
    const int c = static_cast<int>(i % 32);
    const uint8_t* q = b + 2 + (c & 15);
#pragma unroll
    for (int e = 0; e < 8; ++e)
      out[e] = d * static_cast<float>((c < 16 ? q[e] & 15 : q[e] >> 4) - 8);
  } else if constexpr (T == BITNET_TYPE_Q4_K) {
    const uint8_t* b = row + (i / 256) * 144;
    const float d = half_at(b), dmin = half_at(b + 2);
    const uint8_t* sc = b + 4;
    const int within = static_cast<int>(i % 256), j = within / 32, l0 = within % 32;
    const int scale = j < 4 ? sc[j] & 63 : (sc[j + 4] & 15) | ((sc[j - 4] >> 6) << 4);
    const int min = j < 4 ? sc[j + 4] & 63 : (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
    const uint8_t* q = b + 16 + 32 * (j / 2) + l0;
#pragma unroll
    for (int e = 0; e < 8; ++e) {
      const int nib = j % 2 ? q[e] >> 4 : q[e] & 15;
      out[e] = d * static_cast<float>(scale * nib) - dmin * static_cast<float>(min);
    }
  } else if constexpr (T == BITNET_TYPE_Q6_K) {
    const uint8_t* b = row + (i / 256) * 210;
    const int within = static_cast<int>(i % 256), half = within / 128, g = (within % 128) / 32;
    const int l0 = within % 32;
    const uint8_t* ql = b + 64 * half;
    const uint8_t* qh = b + 128 + 32 * half;
    const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192 + 8 * half);
    const float d = half_at(b + 208);
#pragma unroll
    for (int e = 0; e < 8; ++e) {
      const int l = l0 + e;
      const uint8_t lo = ql[l + (g & 1) * 32];
      const int q = ((g >> 1 ? lo >> 4 : lo & 15) | (((qh[l] >> (2 * g)) & 3) << 4)) - 32;
      out[e] = d * static_cast<float>(sc[l / 16 + 2 * g] * q);
    }
  } else if constexpr (T == BITNET_TYPE_I2_S) {
    const int within = static_cast<int>(i % 128), g = within / 32;
    const uint8_t* q = row + (i / 128) * 32 + within % 32;
#pragma unroll
    for (int e = 0; e < 8; ++e)
      out[e] = static_cast<float>(((q[e] >> (6 - 2 * g)) & 3) - 1) * i2s;
  } else if constexpr (T == BITNET_TYPE_TQ2_0) {
    const uint8_t* b = row + (i / 256) * 66;
    const int within = static_cast<int>(i % 256), hl = within / 32, h = hl / 4, l = hl % 4;
    const uint8_t* q = b + 32 * h + within % 32;
    const float d = half_at(b + 64);
#pragma unroll
    for (int e = 0; e < 8; ++e)
      out[e] = static_cast<float>(((q[e] >> (2 * l)) & 3) - 1) * d;
  }
}

// One element of a type whose blocks are single elements (F32, F16, BF16), for row tails.
template <int T>
__device__ __forceinline__ float load1(const uint8_t* row, int64_t i) {
  if constexpr (T == BITNET_TYPE_F32) return reinterpret_cast<const float*>(row)[i];
  if constexpr (T == BITNET_TYPE_F16)
    return __half2float(__ushort_as_half(reinterpret_cast<const uint16_t*>(row)[i]));
  if constexpr (T == BITNET_TYPE_BF16)
    return __uint_as_float(static_cast<uint32_t>(reinterpret_cast<const uint16_t*>(row)[i]) << 16);
  return 0.0f;
}

// Calls f.template operator()<T>() for the runtime type `type` among the weight types.
template <class F>
void dispatch_weight_type(int32_t type, F&& f) {
  switch (type) {
    case BITNET_TYPE_F32:
      return f.template operator()<BITNET_TYPE_F32>();
    case BITNET_TYPE_F16:
      return f.template operator()<BITNET_TYPE_F16>();
    case BITNET_TYPE_BF16:
      return f.template operator()<BITNET_TYPE_BF16>();
    case BITNET_TYPE_Q8_0:
      return f.template operator()<BITNET_TYPE_Q8_0>();
    case BITNET_TYPE_Q4_0:
      return f.template operator()<BITNET_TYPE_Q4_0>();
    case BITNET_TYPE_Q4_K:
      return f.template operator()<BITNET_TYPE_Q4_K>();
    case BITNET_TYPE_Q6_K:
      return f.template operator()<BITNET_TYPE_Q6_K>();
    case BITNET_TYPE_I2_S:
      return f.template operator()<BITNET_TYPE_I2_S>();
    case BITNET_TYPE_TQ2_0:
      return f.template operator()<BITNET_TYPE_TQ2_0>();
  }
}

template <int T>
inline constexpr bool kSingleElementBlocks =
    T == BITNET_TYPE_F32 || T == BITNET_TYPE_F16 || T == BITNET_TYPE_BF16;

// Elements a thread decodes at a time: a whole block where blocks are 32 elements, so its
// scale is read once.
template <int T>
inline constexpr int kStep = T == BITNET_TYPE_Q4_0 || T == BITNET_TYPE_Q8_0 ? 32 : 8;

// Q4_0 and Q8_0 blocks start on 2-byte boundaries (18 and 34 bytes long): their quants are
// read two bytes at a time.
template <int T>
__device__ __forceinline__ void load_step(const uint8_t* row, int64_t i, float i2s, float* w) {
  if constexpr (T == BITNET_TYPE_Q4_0) {
    const uint8_t* b = row + (i / 32) * 18;
    const float d = half_at(b);
    const uint16_t* q = reinterpret_cast<const uint16_t*>(b + 2);
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const uint16_t v = q[j];
      w[2 * j] = d * static_cast<float>((v & 15) - 8);
      w[2 * j + 1] = d * static_cast<float>(((v >> 8) & 15) - 8);
      w[2 * j + 16] = d * static_cast<float>(((v >> 4) & 15) - 8);
      w[2 * j + 17] = d * static_cast<float>((v >> 12) - 8);
    }
  } else if constexpr (T == BITNET_TYPE_Q8_0) {
    const uint8_t* b = row + (i / 32) * 34;
    const float d = half_at(b);
    const uint16_t* q = reinterpret_cast<const uint16_t*>(b + 2);
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      const uint16_t v = q[j];
      w[2 * j] = d * static_cast<float>(static_cast<int8_t>(v & 255));
      w[2 * j + 1] = d * static_cast<float>(static_cast<int8_t>(v >> 8));
    }
  } else {
#pragma unroll
    for (int j = 0; j < kStep<T>; j += 8)
      load8<T>(row, i + j, i2s, w + j);
  }
}

// 8 floats of an activation row, in two 16-byte loads where the address allows.
__device__ __forceinline__ void load_x8(const float* p, float* out) {
  if ((reinterpret_cast<uintptr_t>(p) & 15) == 0) {
    const float4 a = reinterpret_cast<const float4*>(p)[0],
                 b = reinterpret_cast<const float4*>(p)[1];
    out[0] = a.x, out[1] = a.y, out[2] = a.z, out[3] = a.w;
    out[4] = b.x, out[5] = b.y, out[6] = b.z, out[7] = b.w;
  } else {
#pragma unroll
    for (int e = 0; e < 8; ++e)
      out[e] = p[e];
  }
}

template <class V>
__device__ __forceinline__ V warp_sum(V v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Matrix-vector kernels give each weight row 32, 64 or 128 threads of a 128-thread block:
// a thread takes at most two of the row's steps (its units of work) before the row is
// spread wider, and a warp per row keeps the sum in registers.
constexpr int kRowThreads = 128;

inline int rows_per_block(int64_t steps) {
  return steps <= 64 ? 4 : steps <= 128 ? 2 : 1;
}

// Sums each thread's v[c] over the `threads` threads of its row in a fixed order (so results
// repeat to the bit); the row's first thread gets the totals. Every thread must call it.
template <class V, int NC>
__device__ __forceinline__ void row_sums(V* v, int threads, int n) {
  __shared__ V partial[kRowThreads / 32][NC];
#pragma unroll
  for (int c = 0; c < NC; ++c)
    v[c] = warp_sum(v[c]);
  if (threads == 32) return;
  const int warp = threadIdx.x / 32;
  if (threadIdx.x % 32 == 0)
#pragma unroll
    for (int c = 0; c < NC; ++c)
      partial[warp][c] = v[c];
  __syncthreads();
  if (threadIdx.x % threads == 0)
    for (int c = 0; c < NC && c < n; ++c) {
      V t = partial[warp][c];
      for (int w = 1; w < threads / 32; ++w)
        t += partial[warp + w][c];
      v[c] = t;
    }
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

}  // namespace bitnet::cuda

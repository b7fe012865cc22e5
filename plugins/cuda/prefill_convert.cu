// Operands for the cuBLAS prefill path (node_launch.cpp): weights unpacked into dense rows
// (I2_S to int8 codes -1/0/1, other types to F16 or F32), activations to F16, and the int8
// products scaled into F32 outputs as the ternary matvec kernels scale them.
#include <cuda_fp16.h>

#include <type_traits>

#include "dequant.cuh"
#include "kernels.hpp"
#include "launch.cuh"

namespace bitnet::cuda {
namespace {

constexpr int kThreads = 256;

unsigned blocks(int64_t items) {
  return static_cast<unsigned>((items + kThreads - 1) / kThreads);
}

// 16 bytes from p, in one load where p allows (little-endian, as the one load reads them).
__device__ __forceinline__ uint4 load16(const uint8_t* p) {
  if ((reinterpret_cast<uintptr_t>(p) & 15) == 0) return *reinterpret_cast<const uint4*>(p);
  uint32_t w[4] = {};
#pragma unroll
  for (int b = 0; b < 16; ++b)
    w[b / 4] |= static_cast<uint32_t>(p[b]) << (8 * (b % 4));
  return make_uint4(w[0], w[1], w[2], w[3]);
}

// The codes at `shift` of four I2_S bytes as four int8: code c means c - 1, and __vsub4
// subtracts bytewise without borrows (0 - 1 wraps to 0xff, int8 -1).
__device__ __forceinline__ uint32_t i2s_codes(uint32_t bytes, int shift) {
  return __vsub4((bytes >> shift) & 0x03030303u, 0x01010101u);
}

// 16 consecutive I2_S bytes a thread (so every store is 16 bytes): byte j of a 32-byte block
// holds elements j, j+32, j+64, j+96 at shifts 6, 4, 2, 0.
__global__ void i2s_to_int8(const uint8_t* w, size_t stride, int64_t m, int64_t k, int8_t* out) {
  grid_wait();
  const int64_t item = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  const int64_t per_row = k / 64;
  if (item >= m * per_row) return;
  const int64_t r = item / per_row, byte = (item % per_row) * 16;
  const uint4 b = load16(w + r * stride + byte);
  int8_t* o = out + r * k + (byte / 32) * 128 + byte % 32;
#pragma unroll
  for (int g = 0; g < 4; ++g) {
    const int shift = 6 - 2 * g;
    *reinterpret_cast<uint4*>(o + 32 * g) = make_uint4(
        i2s_codes(b.x, shift), i2s_codes(b.y, shift), i2s_codes(b.z, shift), i2s_codes(b.w, shift));
  }
}

// Eight values to p (16-byte aligned) in one 16-byte store: as F16, rounded to nearest even...
__device__ __forceinline__ void store8(__half* p, const float* v) {
  uint32_t w[4];
#pragma unroll
  for (int j = 0; j < 4; ++j)
    w[j] = __half_as_ushort(__float2half_rn(v[2 * j])) |
           static_cast<uint32_t>(__half_as_ushort(__float2half_rn(v[2 * j + 1]))) << 16;
  *reinterpret_cast<uint4*>(p) = make_uint4(w[0], w[1], w[2], w[3]);
}

// ... or as F32, in two.
__device__ __forceinline__ void store8(float* p, const float* v) {
  reinterpret_cast<float4*>(p)[0] = make_float4(v[0], v[1], v[2], v[3]);
  reinterpret_cast<float4*>(p)[1] = make_float4(v[4], v[5], v[6], v[7]);
}

// Eight elements a thread, through the decoders the matmul kernels use.
template <int T, bool kHalf>
__global__ void weights_to(const uint8_t* w, size_t stride, int64_t m, int64_t k, void* out) {
  grid_wait();
  const int64_t item = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  const int64_t per_row = k / 8;
  if (item >= m * per_row) return;
  const int64_t r = item / per_row, i = (item % per_row) * 8;
  float v[8];
  load8<T>(w + r * stride, i, 0.0f, v);
  store8(static_cast<std::conditional_t<kHalf, __half, float>*>(out) + r * k + i, v);
}

// Eight activations a thread, rounded to F16 in `hi`; with `lo`, also what that rounding lost
// (exact in F32), scaled by a power of two (exact) and rounded to F16 in turn.
__global__ void rows_to_half(const float* x, size_t stride, int64_t n, int64_t k, __half* hi,
                             __half* lo) {
  grid_wait();
  const int64_t item = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  const int64_t per_row = k / 8;
  if (item >= n * per_row) return;
  const int64_t r = item / per_row, i = (item % per_row) * 8;
  float v[8];
  load_x8(reinterpret_cast<const float*>(reinterpret_cast<const char*>(x) + r * stride) + i, v);
  store8(hi + r * k + i, v);
  if (!lo) return;
#pragma unroll
  for (int e = 0; e < 8; ++e)
    v[e] = (v[e] - __half2float(__float2half_rn(v[e]))) * kHalfLoScale;
  store8(lo + r * k + i, v);
}

__global__ void scale_ternary(const int32_t* c, int64_t mc, int64_t n, const float* scale,
                              const float* amax, float* dst, size_t dst_stride) {
  grid_wait();
  const int64_t item = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (item >= n * mc) return;
  const int64_t col = item / mc, r = item % mc;
  const double acc = static_cast<double>(*scale) * static_cast<double>(c[item]);
  float* out = reinterpret_cast<float*>(reinterpret_cast<char*>(dst) + col * dst_stride);
  out[r] = static_cast<float>(acc * (static_cast<double>(amax[col]) / 127.0));
}

}  // namespace

void launch_i2s_to_int8(const char* w, size_t stride, int64_t m, int64_t k, int8_t* out,
                        cudaStream_t s) {
  launch(i2s_to_int8, blocks(m * (k / 64)), kThreads, s, reinterpret_cast<const uint8_t*>(w),
         stride, m, k, out);
}

void launch_weights_to(int32_t type, bool half, const char* w, size_t stride, int64_t m, int64_t k,
                       void* out, cudaStream_t s) {
  dispatch_weight_type(type, [&]<int T>() {
    const auto* rows = reinterpret_cast<const uint8_t*>(w);
    if (half)
      launch(weights_to<T, true>, blocks(m * (k / 8)), kThreads, s, rows, stride, m, k, out);
    else
      launch(weights_to<T, false>, blocks(m * (k / 8)), kThreads, s, rows, stride, m, k, out);
  });
}

void launch_rows_to_half(const float* x, size_t stride, int64_t n, int64_t k, void* hi, void* lo,
                         cudaStream_t s) {
  launch(rows_to_half, blocks(n * (k / 8)), kThreads, s, x, stride, n, k, static_cast<__half*>(hi),
         static_cast<__half*>(lo));
}

void launch_scale_ternary(const int32_t* c, int64_t mc, int64_t n, const float* scale,
                          const float* amax, float* dst, size_t dst_stride, cudaStream_t s) {
  launch(scale_ternary, blocks(n * mc), kThreads, s, c, mc, n, scale, amax, dst, dst_stride);
}

}  // namespace bitnet::cuda

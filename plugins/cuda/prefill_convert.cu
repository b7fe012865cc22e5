// Operands for the cuBLAS prefill path (node_launch.cpp): weights unpacked into dense rows
// (I2_S to int8 codes -1/0/1, other types to F16 or F32), activations to F16, and the int8
// products scaled into F32 outputs as the ternary matvec kernels scale them.
#include <cuda_fp16.h>

#include "dequant.cuh"
#include "kernels.hpp"
#include "launch.cuh"

namespace bitnet::cuda {
namespace {

constexpr int kThreads = 256;

unsigned blocks(int64_t items) {
  return static_cast<unsigned>((items + kThreads - 1) / kThreads);
}

// A thread per I2_S byte: byte j of a 32-byte block holds elements j, j+32, j+64, j+96 at
// shifts 6, 4, 2, 0; code c means c - 1.
__global__ void i2s_to_int8(const uint8_t* w, size_t stride, int64_t m, int64_t k, int8_t* out) {
  grid_wait();
  const int64_t item = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  const int64_t per_row = k / 4;
  if (item >= m * per_row) return;
  const int64_t r = item / per_row, byte = item % per_row;
  const uint8_t b = w[r * stride + byte];
  int8_t* o = out + r * k + (byte / 32) * 128 + byte % 32;
#pragma unroll
  for (int g = 0; g < 4; ++g)
    o[32 * g] = static_cast<int8_t>(((b >> (6 - 2 * g)) & 3) - 1);
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
#pragma unroll
  for (int e = 0; e < 8; ++e) {
    if constexpr (kHalf)
      static_cast<__half*>(out)[r * k + i + e] = __float2half_rn(v[e]);
    else
      static_cast<float*>(out)[r * k + i + e] = v[e];
  }
}

__global__ void rows_to_half(const float* x, size_t stride, int64_t n, int64_t k, __half* out) {
  grid_wait();
  const int64_t item = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (item >= n * k) return;
  const int64_t r = item / k, i = item % k;
  out[item] = __float2half_rn(
      reinterpret_cast<const float*>(reinterpret_cast<const char*>(x) + r * stride)[i]);
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
  launch(i2s_to_int8, blocks(m * (k / 4)), kThreads, s, reinterpret_cast<const uint8_t*>(w), stride,
         m, k, out);
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

void launch_rows_to_half(const float* x, size_t stride, int64_t n, int64_t k, void* out,
                         cudaStream_t s) {
  launch(rows_to_half, blocks(n * k), kThreads, s, x, stride, n, k, static_cast<__half*>(out));
}

void launch_scale_ternary(const int32_t* c, int64_t mc, int64_t n, const float* scale,
                          const float* amax, float* dst, size_t dst_stride, cudaStream_t s) {
  launch(scale_ternary, blocks(n * mc), kThreads, s, c, mc, n, scale, amax, dst, dst_stride);
}

}  // namespace bitnet::cuda

// Ternary MUL_MAT (I2_S, TQ2_0) as backend.h specifies it: each activation row quantised to
// int8 by its absmax, integer dot products (dp4a over four 2-bit codes at a time), then the
// scales applied in double in the reference's order, so results match cpu-generic's.
#include "dequant.cuh"
#include "kernels.hpp"
#include "launch.cuh"

#include <algorithm>

namespace bitnet::cuda {
namespace {

constexpr int kCols = 8;  // activation rows per pass over the weights
constexpr uint32_t kCodeMask = 0x03030303u;
constexpr int kMinusOnes = -1;  // four int8 lanes of -1: dp4a with it subtracts sum(q)

__global__ void quantize_rows(const float* x, size_t x_stride, int64_t k, int8_t* q,
                              float* amax_out) {
  grid_wait();
  __shared__ float partial[32];
  const float* row =
      reinterpret_cast<const float*>(reinterpret_cast<const char*>(x) + blockIdx.x * x_stride);
  float amax = 1e-5f;
  for (int64_t i = threadIdx.x; i < k; i += blockDim.x)
    amax = fmaxf(amax, fabsf(row[i]));
  amax = warp_max(amax);
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = amax;
  __syncthreads();
  if (threadIdx.x < 32) {
    float v = threadIdx.x < blockDim.x / 32 ? partial[threadIdx.x] : 1e-5f;
    v = warp_max(v);
    if (threadIdx.x == 0) partial[0] = v;
  }
  __syncthreads();
  amax = partial[0];
  const float iscale = __fdiv_rn(127.0f, amax);
  int8_t* out = q + blockIdx.x * k;
  for (int64_t i = threadIdx.x; i < k; i += blockDim.x) {
    const int v = __float2int_rn(__fmul_rn(row[i], iscale));
    out[i] = static_cast<int8_t>(min(max(v, -128), 127));
  }
  if (threadIdx.x == 0) amax_out[blockIdx.x] = amax;
}

// I2_S: 128 elements in 32 bytes, byte j holding elements j, j+32, j+64, j+96 at shifts 6, 4,
// 2, 0. A thread takes 16 bytes (half a block): word w of it gives four consecutive elements
// of each of the four 32-element groups. Codes c mean c - 1, so dot = sum(c*q) - sum(q).
template <int NC>
__global__ void __launch_bounds__(kRowThreads)
    i2s_matvec(MatmulArgs a, const int8_t* q, const float* amax, int per_block) {
  grid_wait();
  const int threads = kRowThreads / per_block, tid = threadIdx.x % threads;
  const int64_t m = static_cast<int64_t>(blockIdx.x) * per_block + threadIdx.x / threads;
  const bool active = m < a.m;
  const int n = static_cast<int>(a.n);
  const uint4* row = reinterpret_cast<const uint4*>(a.w + (active ? m : 0) * a.w_stride);
  int dot[NC];
#pragma unroll
  for (int c = 0; c < NC; ++c)
    dot[c] = 0;
  const int64_t halves = active ? a.k / 64 : 0;
  for (int64_t h = tid; h < halves; h += threads) {
    const uint4 packed = row[h];
    const uint32_t words[4] = {packed.x, packed.y, packed.z, packed.w};
    const int64_t base = (h / 2) * 128 + (h % 2) * 16;  // element of group 0, word 0
#pragma unroll
    for (int c = 0; c < NC; ++c) {
      if (c >= n) break;
      const int* qc = reinterpret_cast<const int*>(q + c * a.k + base);
      int d = dot[c];
#pragma unroll
      for (int g = 0; g < 4; ++g)
#pragma unroll
        for (int w = 0; w < 4; ++w) {
          const int qv = qc[g * 8 + w];
          d = __dp4a(static_cast<int>((words[w] >> (6 - 2 * g)) & kCodeMask), qv, d);
          d = __dp4a(kMinusOnes, qv, d);
        }
      dot[c] = d;
    }
  }
  row_sums<int, NC>(dot, threads, n);
  if (!active || tid != 0) return;
  const double scale = *a.i2s_scale;
#pragma unroll
  for (int c = 0; c < NC; ++c) {
    if (c >= n) break;
    const double acc = scale * static_cast<double>(dot[c]);
    float* out = reinterpret_cast<float*>(reinterpret_cast<char*>(a.dst) + c * a.dst_stride);
    out[m] = static_cast<float>(acc * (static_cast<double>(amax[c]) / 127.0));
  }
}

// TQ2_0: 66-byte blocks of 256 elements (64 bytes of codes, an fp16 scale); element
// 32*(4h+l)+m sits in byte 32h+m at shift 2l. Four threads share a block, 16 code bytes each.
template <int NC>
__global__ void __launch_bounds__(kRowThreads)
    tq2_matvec(MatmulArgs a, const int8_t* q, const float* amax, int per_block) {
  grid_wait();
  const int threads = kRowThreads / per_block, tid = threadIdx.x % threads;
  const int64_t m = static_cast<int64_t>(blockIdx.x) * per_block + threadIdx.x / threads;
  const bool active = m < a.m;
  const int n = static_cast<int>(a.n);
  const uint8_t* row = reinterpret_cast<const uint8_t*>(a.w) + (active ? m : 0) * a.w_stride;
  double acc[NC];
#pragma unroll
  for (int c = 0; c < NC; ++c)
    acc[c] = 0.0;
  const int64_t quarters = active ? (a.k / 256) * 4 : 0;
  for (int64_t p = tid; p < quarters; p += threads) {
    const int64_t b = p / 4;
    const int s = static_cast<int>(p % 4), hh = s / 2, m0 = 16 * (s % 2);
    const uint8_t* block = row + b * 66;
    const uint16_t* bytes = reinterpret_cast<const uint16_t*>(block + 32 * hh + m0);
    uint32_t words[4];
#pragma unroll
    for (int w = 0; w < 4; ++w)
      words[w] = bytes[2 * w] | (static_cast<uint32_t>(bytes[2 * w + 1]) << 16);
    const double d = half_at(block + 64);
#pragma unroll
    for (int c = 0; c < NC; ++c) {
      if (c >= n) break;
      const int8_t* qb = q + c * a.k + b * 256;
      int dot = 0;
#pragma unroll
      for (int l = 0; l < 4; ++l)
#pragma unroll
        for (int w = 0; w < 4; ++w) {
          const int qv = *reinterpret_cast<const int*>(qb + 32 * (4 * hh + l) + m0 + 4 * w);
          dot = __dp4a(static_cast<int>((words[w] >> (2 * l)) & kCodeMask), qv, dot);
          dot = __dp4a(kMinusOnes, qv, dot);
        }
      acc[c] += d * static_cast<double>(dot);
    }
  }
  row_sums<double, NC>(acc, threads, n);
  if (!active || tid != 0) return;
#pragma unroll
  for (int c = 0; c < NC; ++c) {
    if (c >= n) break;
    float* out = reinterpret_cast<float*>(reinterpret_cast<char*>(a.dst) + c * a.dst_stride);
    out[m] = static_cast<float>(acc[c] * (static_cast<double>(amax[c]) / 127.0));
  }
}

template <int NC>
void launch_cols(const MatmulArgs& a, const int8_t* q, const float* amax, cudaStream_t s) {
  const int per_block = rows_per_block(a.k / 64);  // both take 64 elements a step
  const auto blocks = static_cast<unsigned>((a.m + per_block - 1) / per_block);
  if (a.type == BITNET_TYPE_TQ2_0) {
    launch(tq2_matvec<NC>, blocks, kRowThreads, s, a, q, amax, per_block);
  } else {
    launch(i2s_matvec<NC>, blocks, kRowThreads, s, a, q, amax, per_block);
  }
}

}  // namespace

void launch_quantize_rows(const float* x, size_t x_stride, int64_t n, int64_t k, int8_t* q,
                          float* amax, cudaStream_t s) {
  launch(quantize_rows, static_cast<unsigned>(n), 256, s, x, x_stride, k, q, amax);
}

void launch_ternary_matmul(const MatmulArgs& a, const int8_t* q, const float* amax,
                           cudaStream_t s) {
  // Activation rows in passes of kCols; every pass reads the weights once more (they stay in
  // L2 for small models, and prefill is bound by the integer arithmetic, not by reading).
  for (int64_t c0 = 0; c0 < a.n; c0 += kCols) {
    MatmulArgs part = a;
    part.n = std::min<int64_t>(kCols, a.n - c0);
    part.x = nullptr;
    part.dst = reinterpret_cast<float*>(reinterpret_cast<char*>(a.dst) + c0 * a.dst_stride);
    if (part.n == 1)
      launch_cols<1>(part, q + c0 * a.k, amax + c0, s);
    else
      launch_cols<kCols>(part, q + c0 * a.k, amax + c0, s);
  }
}

}  // namespace bitnet::cuda

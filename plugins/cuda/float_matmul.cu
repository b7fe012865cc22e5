// MUL_MAT over float and block-quantised weights with F32 activations where neither the decode
// kernels (decode_matvec.cu) nor cuBLAS (node_launch.cpp) take it: up to kVecCols activation
// rows, threads of a weight row keep a sum per activation row so the weights are read once;
// more rows (prefill without cuBLAS) go through shared-memory tiles.
#include "dequant.cuh"
#include "kernels.hpp"
#include "launch.cuh"

namespace bitnet::cuda {
namespace {

constexpr int kVecCols = 8;
constexpr int kVecThreads = kRowThreads;

template <int T, int NC>
__global__ void __launch_bounds__(kVecThreads) matvec(MatmulArgs a, int per_block) {
  grid_wait();
  const int threads = kVecThreads / per_block;
  const int tid = threadIdx.x % threads;
  const int64_t m = static_cast<int64_t>(blockIdx.x) * per_block + threadIdx.x / threads;
  const bool active = m < a.m;
  const uint8_t* row = reinterpret_cast<const uint8_t*>(a.w) + (active ? m : 0) * a.w_stride;
  const float i2s = T == BITNET_TYPE_I2_S ? *a.i2s_scale : 0.0f;
  const int n = static_cast<int>(a.n);
  float acc[NC];
#pragma unroll
  for (int c = 0; c < NC; ++c)
    acc[c] = 0.0f;
  constexpr int S = kStep<T>;
  const int64_t steps = active ? a.k / S : 0;
  for (int64_t st = tid; st < steps; st += threads) {
    float w[S];
    load_step<T>(row, st * S, i2s, w);
#pragma unroll
    for (int c = 0; c < NC; ++c) {
      if (c >= n) break;
      const float* xr =
          reinterpret_cast<const float*>(reinterpret_cast<const char*>(a.x) + c * a.x_stride) +
          st * S;
#pragma unroll
      for (int j = 0; j < S; j += 8) {
        float x[8];
        load_x8(xr + j, x);
#pragma unroll
        for (int e = 0; e < 8; ++e)
          acc[c] = fmaf(w[j + e], x[e], acc[c]);
      }
    }
  }
  if constexpr (kSingleElementBlocks<T>) {
    for (int64_t i = (a.k / S) * S + tid; active && i < a.k; i += threads) {
      const float w = load1<T>(row, i);
#pragma unroll
      for (int c = 0; c < NC; ++c) {
        if (c >= n) break;
        acc[c] = fmaf(
            w,
            reinterpret_cast<const float*>(reinterpret_cast<const char*>(a.x) + c * a.x_stride)[i],
            acc[c]);
      }
    }
  }
  row_sums<float, NC>(acc, threads, n);
  if (!active || tid != 0) return;
#pragma unroll
  for (int c = 0; c < NC; ++c) {
    if (c >= n) break;
    reinterpret_cast<float*>(reinterpret_cast<char*>(a.dst) + c * a.dst_stride)[m] = acc[c];
  }
}

// 64 x 64 output tiles, 32 deep in k, each of 256 threads computing 4 x 4 outputs.
constexpr int kTile = 64, kDepth = 32;

template <int T>
__global__ void __launch_bounds__(256) tiled(MatmulArgs a) {
  grid_wait();
  __shared__ float ws[kDepth][kTile + 4];
  __shared__ float xs[kDepth][kTile + 4];
  const int t = threadIdx.x;
  const int64_t m0 = static_cast<int64_t>(blockIdx.x) * kTile;
  const int64_t n0 = static_cast<int64_t>(blockIdx.y) * kTile;
  const float i2s = T == BITNET_TYPE_I2_S ? *a.i2s_scale : 0.0f;
  const int lr = t / 4, lc = 8 * (t % 4);  // the row and 8-element chunk this thread loads
  const int ty = t / 16, tx = t % 16;
  float acc[4][4] = {};
  for (int64_t k0 = 0; k0 < a.k; k0 += kDepth) {
    float w[8] = {}, x[8] = {};
    const int64_t i = k0 + lc;
    if (m0 + lr < a.m) {
      const uint8_t* row = reinterpret_cast<const uint8_t*>(a.w) + (m0 + lr) * a.w_stride;
      if (i + 8 <= a.k) {
        load8<T>(row, i, i2s, w);
      } else if constexpr (kSingleElementBlocks<T>) {
        for (int e = 0; e < 8 && i + e < a.k; ++e)
          w[e] = load1<T>(row, i + e);
      }
    }
    if (n0 + lr < a.n) {
      const float* xr = reinterpret_cast<const float*>(reinterpret_cast<const char*>(a.x) +
                                                       (n0 + lr) * a.x_stride);
      for (int e = 0; e < 8; ++e)
        if (i + e < a.k) x[e] = xr[i + e];
    }
    __syncthreads();
#pragma unroll
    for (int e = 0; e < 8; ++e) {
      ws[lc + e][lr] = w[e];
      xs[lc + e][lr] = x[e];
    }
    __syncthreads();
#pragma unroll 8
    for (int kk = 0; kk < kDepth; ++kk) {
      float av[4], bv[4];
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        av[r] = ws[kk][ty * 4 + r];
        bv[r] = xs[kk][tx * 4 + r];
      }
#pragma unroll
      for (int r = 0; r < 4; ++r)
#pragma unroll
        for (int c = 0; c < 4; ++c)
          acc[r][c] = fmaf(av[r], bv[c], acc[r][c]);
    }
  }
#pragma unroll
  for (int c = 0; c < 4; ++c) {
    const int64_t n = n0 + tx * 4 + c;
    if (n >= a.n) continue;
    float* out = reinterpret_cast<float*>(reinterpret_cast<char*>(a.dst) + n * a.dst_stride);
#pragma unroll
    for (int r = 0; r < 4; ++r)
      if (m0 + ty * 4 + r < a.m) out[m0 + ty * 4 + r] = acc[r][c];
  }
}

}  // namespace

void launch_float_matmul(const MatmulArgs& a, cudaStream_t s) {
  dispatch_weight_type(a.type, [&]<int T>() {
    if (a.n <= kVecCols) {
      const int per_block = rows_per_block(a.k / kStep<T>);
      const auto blocks = static_cast<unsigned>((a.m + per_block - 1) / per_block);
      launch(matvec<T, kVecCols>, blocks, kVecThreads, s, a, per_block);
    } else {
      const dim3 grid((a.m + kTile - 1) / kTile, (a.n + kTile - 1) / kTile);
      launch(tiled<T>, grid, 256, s, a);
    }
  });
}

}  // namespace bitnet::cuda

// MUL_MAT over float and block-quantised weights with F32 activations. One activation row (a
// decode step) takes matvec_rows; up to kVecCols rows, threads of a weight row keep a sum per
// activation row so the weights are read once; more rows (prefill) go through shared-memory
// tiles.
#include "dequant.cuh"
#include "kernels.hpp"

namespace bitnet::cuda {
namespace {

constexpr int kVecCols = 8;
constexpr int kVecThreads = kRowThreads;

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

template <int T, int NC>
__global__ void __launch_bounds__(kVecThreads) matvec(MatmulArgs a, int per_block) {
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

// One activation row (a decode step): a warp per R weight rows, each step of x loaded once and
// used for all R rows, so x is read from cache R times less often (for short weight rows x
// traffic outweighs the weights themselves).
template <int T, int R>
__global__ void __launch_bounds__(kVecThreads) matvec_rows(MatmulArgs a) {
  const int lane = threadIdx.x % 32;
  const int64_t m0 = (static_cast<int64_t>(blockIdx.x) * (kVecThreads / 32) + threadIdx.x / 32) * R;
  if (m0 >= a.m) return;
  const float i2s = T == BITNET_TYPE_I2_S ? *a.i2s_scale : 0.0f;
  const uint8_t* rows[R];
#pragma unroll
  for (int r = 0; r < R; ++r)
    rows[r] = reinterpret_cast<const uint8_t*>(a.w) + min(m0 + r, a.m - 1) * a.w_stride;
  float acc[R];
#pragma unroll
  for (int r = 0; r < R; ++r)
    acc[r] = 0.0f;
  constexpr int S = kStep<T>;
  const int64_t steps = a.k / S;
  for (int64_t st = lane; st < steps; st += 32) {
    float x[S];
#pragma unroll
    for (int j = 0; j < S; j += 8)
      load_x8(a.x + st * S + j, x + j);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      float w[S];
      load_step<T>(rows[r], st * S, i2s, w);
#pragma unroll
      for (int e = 0; e < S; ++e)
        acc[r] = fmaf(w[e], x[e], acc[r]);
    }
  }
  if constexpr (kSingleElementBlocks<T>) {
    for (int64_t i = steps * S + lane; i < a.k; i += 32)
#pragma unroll
      for (int r = 0; r < R; ++r)
        acc[r] = fmaf(load1<T>(rows[r], i), a.x[i], acc[r]);
  }
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const float total = warp_sum(acc[r]);
    if (lane == 0 && m0 + r < a.m) a.dst[m0 + r] = total;
  }
}

// 64 x 64 output tiles, 32 deep in k, each of 256 threads computing 4 x 4 outputs.
constexpr int kTile = 64, kDepth = 32;

template <int T>
__global__ void __launch_bounds__(256) tiled(MatmulArgs a) {
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
    constexpr int kRows = 4;
    if (a.n == 1) {
      const int64_t per = kVecThreads / 32 * kRows;
      matvec_rows<T, kRows><<<static_cast<unsigned>((a.m + per - 1) / per), kVecThreads, 0, s>>>(a);
    } else if (a.n <= kVecCols) {
      const int per_block = rows_per_block(a.k / kStep<T>);
      const auto blocks = static_cast<unsigned>((a.m + per_block - 1) / per_block);
      matvec<T, kVecCols><<<blocks, kVecThreads, 0, s>>>(a, per_block);
    } else {
      const dim3 grid((a.m + kTile - 1) / kTile, (a.n + kTile - 1) / kTile);
      tiled<T><<<grid, 256, 0, s>>>(a);
    }
  });
}

}  // namespace bitnet::cuda

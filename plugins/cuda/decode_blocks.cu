// Batch-1 Q4_0 and Q8_0 matmuls over int8 activations (decode_rows.cuh has what they share
// with the other weight types). Multiplied in float, these kernels moved about 500 GB/s: a
// lane held a few loads in flight, and each element took a conversion and an FMA. Here every
// block copies its weight rows into shared memory (cp.async, 16 bytes a lane) before it waits
// for the previous kernel, so the whole matrix is in flight at once, and the activation row is
// quantised per 32-element block as llama.cpp's q8_1 (d = max|x| / 127, q = round(x / d)),
// which the op's bound allows for block-quantised weights; then four elements are one dp4a.
#include "decode_rows.cuh"

namespace bitnet::cuda {
namespace {

constexpr int kBlockElems = 32;

template <int T>
constexpr int kBlockBytes = T == BITNET_TYPE_Q4_0 ? 18 : 34;

// The activation row x (16-byte aligned, k a multiple of 256), quantised per 32-element block
// into qs (32 bytes a block) and ds (its d). Each block's bytes are ordered for the lane
// quarter j that reads 8 of them at 8j: Q4_0's byte j of a block holds elements j (low nibble)
// and j + 16 (high), so quarter j takes elements 4j..4j+3 and 16+4j..16+4j+3; Q8_0's takes
// 8j..8j+7. Eight threads quantise a block, a float4 each.
template <int T>
__device__ void stage_blocks(const float* x, int k, uint8_t* qs, float* ds) {
  const auto* x4 = reinterpret_cast<const float4*>(x);
  const int n4 = k / 4;  // a multiple of 64: a warp is wholly inside the row or past it
  for (int base = threadIdx.x; base < n4; base += kThreads * kBatch) {
    float4 v[kBatch];
    load_batch(x4, base, n4, float4{}, v);
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      const int i = base + b * kThreads;
      if (i >= n4) break;
      float amax = fmaxf(fmaxf(fabsf(v[b].x), fabsf(v[b].y)), fmaxf(fabsf(v[b].z), fabsf(v[b].w)));
#pragma unroll
      for (int o = 1; o < 8; o <<= 1)
        amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
      const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
      const auto q = [id](float e) {
        return static_cast<uint32_t>(__float2int_rn(e * id)) & 0xffu;
      };
      const int block = i / 8, f = i % 8;
      const int at = T == BITNET_TYPE_Q4_0 ? (f < 4 ? 8 * f : 8 * (f - 4) + 4) : 4 * f;
      *reinterpret_cast<uint32_t*>(qs + block * kBlockElems + at) =
          q(v[b].x) | q(v[b].y) << 8 | q(v[b].z) << 16 | q(v[b].w) << 24;
      if (f == 0) ds[block] = amax / 127.0f;
    }
  }
}

// Two bytes at a 2-byte aligned shared-memory address (blocks of 18 and 34 bytes leave their
// quants 2-byte aligned only).
__device__ __forceinline__ uint32_t u16_at(const uint8_t* p) {
  return *reinterpret_cast<const uint16_t*>(p);
}

// The integer dot product of lane quarter j's eight elements of one weight block with its
// eight activations xq; Q4_0's codes are 0..15 standing for -8..7, so 8 * sum(xq) comes off.
template <int T>
__device__ __forceinline__ int block_dot(const uint8_t* blk, int j, uint2 xq, int xsum) {
  if constexpr (T == BITNET_TYPE_Q4_0) {
    const uint8_t* p = blk + 2 + 4 * j;
    const uint32_t v = u16_at(p) | u16_at(p + 2) << 16;
    return dp4a_us(v & 0x0f0f0f0fu, static_cast<int>(xq.x),
                   dp4a_us((v >> 4) & 0x0f0f0f0fu, static_cast<int>(xq.y), 0)) -
           8 * xsum;
  } else {
    const uint8_t* p = blk + 2 + 8 * j;
    const auto lo = static_cast<int>(u16_at(p) | u16_at(p + 2) << 16),
               hi = static_cast<int>(u16_at(p + 4) | u16_at(p + 6) << 16);
    return __dp4a(lo, static_cast<int>(xq.x), __dp4a(hi, static_cast<int>(xq.y), 0));
  }
}

// A warp per R rows (a pair: R of each set), as float_decode; four lanes a block, so one
// iteration of a warp covers eight consecutive blocks of each row.
template <int T, int R, bool kPair, bool kNorm>
__global__ void __launch_bounds__(kThreads) block_decode(DecodeMatvec a) {
  constexpr int NR = kPair ? 2 * R : R;
  extern __shared__ __align__(16) uint8_t shared[];
  const int lane = threadIdx.x % 32;
  const int k = static_cast<int>(a.k), blocks = k / kBlockElems;
  const int row_bytes = blocks * kBlockBytes<T>;  // a multiple of 16
  const StagedStart<R, kPair, kNorm> start(a, shared, row_bytes, lane);
  uint8_t* qs = start.after;
  auto* ds = reinterpret_cast<float*>(qs + k);
  stage_blocks<T>(start.x, k, qs, ds);
  wait_staged_rows();
  __syncthreads();
  if (!start.active) return;
  const int j = lane % 4;
  float acc[NR] = {};
#pragma unroll 4
  for (int b = lane / 4; b < blocks; b += 8) {
    const uint2 xq = *reinterpret_cast<const uint2*>(qs + b * kBlockElems + 8 * j);
    const float dx = ds[b];
    const int xsum = T == BITNET_TYPE_Q4_0 ? __dp4a(static_cast<int>(xq.x), 0x01010101,
                                                    __dp4a(static_cast<int>(xq.y), 0x01010101, 0))
                                           : 0;
#pragma unroll
    for (int r = 0; r < NR; ++r) {
      const uint8_t* blk = start.weights + r * row_bytes + b * kBlockBytes<T>;
      const float dw = __half2float(__ushort_as_half(static_cast<uint16_t>(u16_at(blk))));
      acc[r] = fmaf(dw * dx, static_cast<float>(block_dot<T>(blk, j, xq, xsum)), acc[r]);
    }
  }
  finish_rows<R, kPair, NR>(a, start.set, start.m0, start.m, acc, start.resid, lane);
}

size_t shared_bytes(const DecodeMatvec& a, int rows_per_warp) {
  const auto k = static_cast<size_t>(a.k);
  const size_t row_bytes = k / kBlockElems * (a.type == BITNET_TYPE_Q4_0 ? 18 : 34);
  return kWarps * rows_per_warp * row_bytes + (a.norm.x ? k * sizeof(float) : 0) + k +
         k / kBlockElems * sizeof(float);
}

template <int T, bool kPair>
bool launch_typed(const DecodeMatvec& a, cudaStream_t s) {
  const auto bytes = [&](int rows) { return shared_bytes(a, rows); };
  return launch_staged(a, kPair, bytes, [&]<int R>(size_t shared) {
    launch_kernel(a.norm.x ? block_decode<T, R, kPair, true> : block_decode<T, R, kPair, false>,
                  warps_for(a, R, kPair), shared, a, s);
  });
}

}  // namespace

bool launch_block_decode(const DecodeMatvec& a, cudaStream_t s) {
  if (a.type != BITNET_TYPE_Q4_0 && a.type != BITNET_TYPE_Q8_0) return false;
  // Rows of 8-block multiples are whole 16-byte chunks (8 x 18 = 144, 8 x 34 = 272).
  if (a.k % 256 || !rows_aligned16(a)) return false;
  const auto go = [&]<int T>() {
    return a.glu_dst ? launch_typed<T, true>(a, s) : launch_typed<T, false>(a, s);
  };
  return a.type == BITNET_TYPE_Q4_0 ? go.template operator()<BITNET_TYPE_Q4_0>()
                                    : go.template operator()<BITNET_TYPE_Q8_0>();
}

}  // namespace bitnet::cuda

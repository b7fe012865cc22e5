// Batch-1 F16 matmuls (the 2B4T output head, F16 models' layers) with each warp's weight rows
// copied into shared memory before the wait, as decode_blocks.cu does for Q4_0 and Q8_0: the
// float kernel's lanes held a few 16-byte loads in flight each, which moved the 2B4T head
// (657 MB) at about 2.9 TB/s of an H200's 4.5. Activations stay F32 and sums float, as in the
// float kernel, so F16's bound holds as it did.
#include "decode_rows.cuh"

namespace bitnet::cuda {
namespace {

__device__ __forceinline__ float dot8(const __half2* w, float4 x0, float4 x1, float acc) {
  const float2 a = __half22float2(w[0]), b = __half22float2(w[1]), c = __half22float2(w[2]),
               d = __half22float2(w[3]);
  acc = fmaf(a.x, x0.x, fmaf(a.y, x0.y, acc));
  acc = fmaf(b.x, x0.z, fmaf(b.y, x0.w, acc));
  acc = fmaf(c.x, x1.x, fmaf(c.y, x1.y, acc));
  return fmaf(d.x, x1.z, fmaf(d.y, x1.w, acc));
}

// A warp per R rows (a pair: R of each set); lane l takes the 16-byte chunks l, l + 32, ... of
// every row, eight elements each.
template <int R, bool kPair, bool kNorm>
__global__ void __launch_bounds__(kThreads) f16_decode(DecodeMatvec a) {
  constexpr int NR = kPair ? 2 * R : R;
  extern __shared__ __align__(16) uint8_t shared[];
  const int lane = threadIdx.x % 32;
  const int chunks = static_cast<int>(a.k / 8), row_bytes = 16 * chunks;
  const StagedStart<R, kPair, kNorm> start(a, shared, row_bytes, lane);
  // A warp reads only the rows its own lanes staged.
  wait_staged_rows();
  __syncwarp();
  if (!start.active) return;
  const auto* x4 = reinterpret_cast<const float4*>(start.x);
  float acc[NR] = {};
#pragma unroll 2
  for (int c = lane; c < chunks; c += 32) {
    const float4 x0 = x4[2 * c], x1 = x4[2 * c + 1];
#pragma unroll
    for (int r = 0; r < NR; ++r)
      acc[r] = dot8(reinterpret_cast<const __half2*>(start.weights + r * row_bytes + 16 * c), x0,
                    x1, acc[r]);
  }
  finish_rows<R, kPair, NR>(a, start.set, start.m0, start.m, acc, start.resid, lane);
}

size_t shared_bytes(const DecodeMatvec& a, int rows_per_warp) {
  const auto k = static_cast<size_t>(a.k);
  return kWarps * rows_per_warp * 2 * k + (a.norm.x ? k * sizeof(float) : 0);
}

template <bool kPair>
bool launch_typed(const DecodeMatvec& a, cudaStream_t s) {
  const auto bytes = [&](int rows) { return shared_bytes(a, rows); };
  return launch_staged(a, kPair, bytes, [&]<int R>(size_t shared) {
    launch_kernel(a.norm.x ? f16_decode<R, kPair, true> : f16_decode<R, kPair, false>,
                  warps_for(a, R, kPair), shared, a, s);
  });
}

}  // namespace

bool launch_f16_decode(const DecodeMatvec& a, cudaStream_t s) {
  if (a.type != BITNET_TYPE_F16 || a.k % 8 || !rows_aligned16(a)) return false;
  return a.glu_dst ? launch_typed<true>(a, s) : launch_typed<false>(a, s);
}

}  // namespace bitnet::cuda

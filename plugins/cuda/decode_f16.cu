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
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int chunks = static_cast<int>(a.k / 8), row_bytes = 16 * chunks;
  int64_t m0 = 0, m = 0;
  const uint8_t* rows[NR];
  const int s = warp_rows<R, kPair, NR>(a, &m0, &m, rows);
  const bool active = m0 < m;
  const uint8_t* weights = shared + warp * NR * row_bytes;
  if (active) stage_rows<NR>(shared + warp * NR * row_bytes, rows, row_bytes, lane);
  float resid[R];
  wait_previous<R, kPair, kNorm>(a, m0, m, lane, resid);
  const float* x = a.x;
  if constexpr (kNorm) {
    auto* ys = reinterpret_cast<float*>(shared + kWarps * NR * row_bytes);
    stage_norm<false>(a, ys, nullptr);
    x = ys;
  }
  // A warp reads only the rows its own lanes staged.
  wait_staged_rows();
  __syncwarp();
  if (!active) return;
  const auto* x4 = reinterpret_cast<const float4*>(x);
  float acc[NR] = {};
#pragma unroll 2
  for (int c = lane; c < chunks; c += 32) {
    const float4 x0 = x4[2 * c], x1 = x4[2 * c + 1];
#pragma unroll
    for (int r = 0; r < NR; ++r)
      acc[r] =
          dot8(reinterpret_cast<const __half2*>(weights + r * row_bytes + 16 * c), x0, x1, acc[r]);
  }
  float out[NR];
#pragma unroll
  for (int r = 0; r < NR; ++r)
    out[r] = warp_sum(acc[r]);
  if (lane == 0) store_rows<R, kPair>(a, s, m0, m, out, resid);
}

size_t shared_bytes(const DecodeMatvec& a, int rows_per_warp) {
  const auto k = static_cast<size_t>(a.k);
  return kWarps * rows_per_warp * 2 * k + (a.norm.x ? k * sizeof(float) : 0);
}

template <int R, bool kPair>
void launch_rows(const DecodeMatvec& a, cudaStream_t s) {
  const size_t bytes = shared_bytes(a, kPair ? 2 * R : R);
  const int64_t warps = warps_for(a, R, kPair);
  if (a.norm.x)
    launch_kernel(f16_decode<R, kPair, true>, warps, bytes, a, s);
  else
    launch_kernel(f16_decode<R, kPair, false>, warps, bytes, a, s);
}

template <bool kPair>
bool launch_typed(const DecodeMatvec& a, cudaStream_t s) {
  const auto bytes = [&](int rows) { return shared_bytes(a, rows); };
  if (bytes(kPair ? 2 : 1) > kMaxShared) return false;
  switch (rows_per_warp(a, kPair, bytes)) {
    case 4:
      launch_rows<4, kPair>(a, s);
      break;
    case 2:
      launch_rows<2, kPair>(a, s);
      break;
    default:
      launch_rows<1, kPair>(a, s);
  }
  return true;
}

bool aligned16(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

}  // namespace

bool launch_f16_decode(const DecodeMatvec& a, cudaStream_t s) {
  if (a.type != BITNET_TYPE_F16 || a.k % 8 || !aligned16(a.norm.x ? a.norm.x : a.x)) return false;
  for (int i = 0; i < a.sets; ++i)
    if (!aligned16(a.set[i].w) || a.set[i].w_stride % 16) return false;
  return a.glu_dst ? launch_typed<true>(a, s) : launch_typed<false>(a, s);
}

}  // namespace bitnet::cuda

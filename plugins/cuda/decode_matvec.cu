// Batch-1 MUL_MAT (a decode step): a warp per R weight rows. Up to kMaxRowSets matmuls of the
// same activations run as one launch (q, k and v), a gate/up pair can finish with the GLU it
// feeds, a single matmul with the residual ADD after it, and the RMS_NORM before the matmuls
// can be computed by every block from its input row, so a layer needs few kernels. I2_S
// weights go to decode_i2s.cu, Q4_0/Q8_0 at widths of 256s to decode_blocks.cu, F16 to
// decode_f16.cu where its rows fit; here the rest, multiplied in float in the single-matmul
// kernels' order, so grouping changes no result.
#include "decode_rows.cuh"

namespace bitnet::cuda {
namespace {

template <int T, int NR>
__device__ __forceinline__ void float_dots(const uint8_t* const* rows, const float* x, int64_t k,
                                           int lane, float* acc) {
  constexpr int S = kStep<T>;
  const int64_t steps = k / S;
#pragma unroll 2
  for (int64_t st = lane; st < steps; st += 32) {
    float xv[S];
#pragma unroll
    for (int j = 0; j < S; j += 8)
      load_x8(x + st * S + j, xv + j);
#pragma unroll
    for (int r = 0; r < NR; ++r) {
      float wv[S];
      load_step<T>(rows[r], st * S, 0.0f, wv);
#pragma unroll
      for (int e = 0; e < S; ++e)
        acc[r] = fmaf(wv[e], xv[e], acc[r]);
    }
  }
  if constexpr (kSingleElementBlocks<T>) {
    for (int64_t i = steps * S + lane; i < k; i += 32)
#pragma unroll
      for (int r = 0; r < NR; ++r)
        acc[r] = fmaf(load1<T>(rows[r], i), x[i], acc[r]);
  }
}

// Four consecutive activations, in one 16-byte load where the address allows.
__device__ __forceinline__ float4 load_x4(const float* p) {
  if (aligned16(p)) return *reinterpret_cast<const float4*>(p);
  return make_float4(p[0], p[1], p[2], p[3]);
}

__device__ __forceinline__ float dot4(float4 x, int c0, int c1, int c2, int c3) {
  return fmaf(static_cast<float>(c3), x.w,
              fmaf(static_cast<float>(c2), x.z,
                   fmaf(static_cast<float>(c1), x.y, static_cast<float>(c0) * x.x)));
}

// Q4_0: four lanes a 32-element block, eight elements each, so that a warp's activation loads
// cover eight blocks' activations in 16 lines. float_dots' lane-per-block walk had every lane
// load its own 128-byte line, 32 lines per load instruction: with one row a warp those loads
// held L1 at 87% of its throughput while DRAM stayed under 8%. This walk took 1B Q4_0 decode
// from 636 to 697 tok/s on an H200; for Q8_0 it was slower (579 -> 524), which keeps float_dots.
// Lane quarter q takes bytes 4q..4q+3: elements 4q..4q+3 in the low nibbles, 16+4q.. in the high.
template <int NR>
__device__ __forceinline__ void q4_0_dots(const uint8_t* const* rows, const float* x, int64_t k,
                                          int lane, float* acc) {
  const int q = lane % 4;
  const int64_t blocks = k / 32;
#pragma unroll 2
  for (int64_t b = lane / 4; b < blocks; b += 8) {
    const float4 x0 = load_x4(x + b * 32 + 4 * q), x1 = load_x4(x + b * 32 + 16 + 4 * q);
#pragma unroll
    for (int r = 0; r < NR; ++r) {
      const uint8_t* blk = rows[r] + b * 18;
      const auto* qs = reinterpret_cast<const uint16_t*>(blk + 2);  // 2-byte aligned
      const uint32_t v = qs[2 * q] | static_cast<uint32_t>(qs[2 * q + 1]) << 16;
      const float sum =
          dot4(x0, (v & 15) - 8, ((v >> 8) & 15) - 8, ((v >> 16) & 15) - 8, ((v >> 24) & 15) - 8) +
          dot4(x1, ((v >> 4) & 15) - 8, ((v >> 12) & 15) - 8, ((v >> 20) & 15) - 8,
               static_cast<int>(v >> 28) - 8);
      acc[r] = fmaf(half_at(blk), sum, acc[r]);
    }
  }
}

// Float and block-quantised weights over the F32 activations (the normalised row in shared
// memory with kNorm). Their weights are fetched into L2 ahead where they fit.
template <int T, int R, bool kPair, bool kNorm>
__global__ void __launch_bounds__(kThreads) float_decode(DecodeMatvec a) {
  constexpr int NR = kPair ? 2 * R : R;
  extern __shared__ __align__(16) uint8_t shared[];
  const int lane = threadIdx.x % 32;
  int64_t m0 = 0, m = 0;
  const uint8_t* rows[NR];
  const int s = warp_rows<R, kPair, NR>(a, &m0, &m, rows);
  const bool active = m0 < m;
  if (active && a.prefetch)
#pragma unroll
    for (int r = 0; r < NR; ++r)
      for (int64_t off = lane * 128; off < a.set[kPair ? s + r / R : s].row_bytes; off += 32 * 128)
        prefetch_l2(rows[r] + off);
  float resid[R];
  wait_previous<R, kPair, kNorm>(a, s, m0, m, lane, resid);
  const float* x = a.x;
  if constexpr (kNorm) {
    stage_norm<false>(a, reinterpret_cast<float*>(shared), nullptr);
    x = reinterpret_cast<const float*>(shared);
  }
  if (!active) return;
  float acc[NR] = {};
  if constexpr (T == BITNET_TYPE_Q4_0)
    q4_0_dots<NR>(rows, x, a.k, lane, acc);
  else
    float_dots<T, NR>(rows, x, a.k, lane, acc);
  finish_rows<R, kPair, NR>(a, s, m0, m, acc, resid, lane);
}

template <int T, int R, bool kPair>
void launch_float(const DecodeMatvec& a, cudaStream_t s) {
  const int64_t warps = warps_for(a, R, kPair);
  const size_t shared = a.norm.x ? static_cast<size_t>(a.k) * sizeof(float) : 0;
  if (a.norm.x)
    launch_kernel(float_decode<T, R, kPair, true>, warps, shared, a, s);
  else
    launch_kernel(float_decode<T, R, kPair, false>, warps, shared, a, s);
}

// Float weights that would leave fewer blocks than two an SM at four rows a warp take one or
// two (1B F16 decode 392 -> 522 tok/s on an H200). Block types get here only where
// decode_blocks.cu does not apply (k no multiple of 256, rows not 16-byte aligned, or one row a
// warp over its shared memory), and stay at four: with one row a warp their activation loads
// held L1 at 87% of its throughput.
template <int T>
void launch_typed(const DecodeMatvec& a, cudaStream_t s) {
  if (a.glu_dst) return launch_float<T, 2, true>(a, s);
  if constexpr (kSingleElementBlocks<T>) {
    if (warps_for(a, 2, false) < kFullGrid * kWarps && !a.even_rows)
      return launch_float<T, 1, false>(a, s);
    if (warps_for(a, 4, false) < kFullGrid * kWarps) return launch_float<T, 2, false>(a, s);
  }
  launch_float<T, 4, false>(a, s);
}

}  // namespace

bool decode_matvec_type(int32_t type) {
  return type != BITNET_TYPE_TQ2_0;
}

// What the float and I2_S kernels need; decode_blocks.cu and decode_f16.cu take more, and
// leave the run to the float kernel where that is more than they may take.
size_t decode_matvec_shared(int32_t type, int64_t k, bool norm) {
  const auto elements = static_cast<size_t>(k);
  return (norm ? elements * sizeof(float) : 0) +
         (type == BITNET_TYPE_I2_S ? elements / 64 * kChunkStride + i2s_parts_bytes() : 0);
}

// Without opting in to more per launch: the float and I2_S kernels never do.
size_t decode_matvec_shared_limit() {
  return 48 * 1024;
}

void launch_decode_matvec(const DecodeMatvec& a, cudaStream_t s) {
  switch (a.type) {
    case BITNET_TYPE_I2_S:
      return launch_i2s_decode(a, s);
    case BITNET_TYPE_TQ2_0:
      return;
    default:
      if (launch_block_decode(a, s) || launch_f16_decode(a, s)) return;
      dispatch_weight_type(a.type, [&]<int T>() {
        if constexpr (T != BITNET_TYPE_I2_S && T != BITNET_TYPE_TQ2_0) launch_typed<T>(a, s);
      });
  }
}

}  // namespace bitnet::cuda

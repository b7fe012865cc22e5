// Batch-1 MUL_MAT (a decode step): a warp per R weight rows, each step of the activations
// loaded once for all R rows. Up to kMaxRowSets matmuls of the same activations run as one
// launch (q, k and v), and a gate/up pair can finish with the GLU it feeds, so a layer needs
// fewer kernels. Ternary weights (I2_S) take the int8 activations with dp4a, float and block
// types the F32 activations; the sums are those of the single-matmul kernels, so grouping
// changes no result.
#include "dequant.cuh"
#include "kernels.hpp"
#include "launch.cuh"

namespace bitnet::cuda {
namespace {

constexpr int kWarps = 4;
constexpr uint32_t kCodeMask = 0x03030303u;
constexpr int kMinusOnes = -1;

// Rows of `set` this warp takes, and where their R rows start; the set is found by walking
// the sets' warp counts (a warp never spans two sets).
template <int R>
__device__ __forceinline__ int find_set(const DecodeMatvec& a, int64_t unit, int64_t* m0) {
  int s = 0;
  while (s + 1 < a.sets) {
    const int64_t units = (a.set[s].m + R - 1) / R;
    if (unit < units) break;
    unit -= units;
    ++s;
  }
  *m0 = unit * R;
  return s;
}

// I2_S: 16 bytes (half of a 128-element block) a lane and step, as ternary_matmul.cu lays out.
template <int NR>
__device__ __forceinline__ void ternary_dots(const uint8_t* const* rows, const DecodeMatvec& a,
                                             int lane, int* dot) {
  const int64_t halves = a.k / 64;
#pragma unroll 2
  for (int64_t h = lane; h < halves; h += 32) {
    const int* qc = reinterpret_cast<const int*>(a.q + (h / 2) * 128 + (h % 2) * 16);
    int qv[16], minus_sum = 0;
#pragma unroll
    for (int g = 0; g < 4; ++g)
#pragma unroll
      for (int w = 0; w < 4; ++w) {
        qv[4 * g + w] = qc[g * 8 + w];
        minus_sum = __dp4a(kMinusOnes, qv[4 * g + w], minus_sum);
      }
#pragma unroll
    for (int r = 0; r < NR; ++r) {
      const uint4 packed = reinterpret_cast<const uint4*>(rows[r])[h];
      const uint32_t words[4] = {packed.x, packed.y, packed.z, packed.w};
      int d = dot[r] + minus_sum;
#pragma unroll
      for (int g = 0; g < 4; ++g)
#pragma unroll
        for (int w = 0; w < 4; ++w)
          d = __dp4a(static_cast<int>((words[w] >> (6 - 2 * g)) & kCodeMask), qv[4 * g + w], d);
      dot[r] = d;
    }
  }
}

template <int T, int NR>
__device__ __forceinline__ void float_dots(const uint8_t* const* rows, const DecodeMatvec& a,
                                           int lane, float* acc) {
  constexpr int S = kStep<T>;
  const int64_t steps = a.k / S;
#pragma unroll 2
  for (int64_t st = lane; st < steps; st += 32) {
    float x[S];
#pragma unroll
    for (int j = 0; j < S; j += 8)
      load_x8(a.x + st * S + j, x + j);
#pragma unroll
    for (int r = 0; r < NR; ++r) {
      float w[S];
      load_step<T>(rows[r], st * S, 0.0f, w);
#pragma unroll
      for (int e = 0; e < S; ++e)
        acc[r] = fmaf(w[e], x[e], acc[r]);
    }
  }
  if constexpr (kSingleElementBlocks<T>) {
    for (int64_t i = steps * S + lane; i < a.k; i += 32)
#pragma unroll
      for (int r = 0; r < NR; ++r)
        acc[r] = fmaf(load1<T>(rows[r], i), a.x[i], acc[r]);
  }
}

// Rows m0..m0+R of the set (of sets 0 and 1 for a GLU pair); `values` gets each row's result.
template <int T, int R, bool kPair>
__global__ void __launch_bounds__(32 * kWarps) decode_matvec(DecodeMatvec a) {
  constexpr int NR = kPair ? 2 * R : R;
  const int lane = threadIdx.x % 32;
  const int64_t unit = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  int64_t m0 = 0;
  const int s = kPair ? 0 : find_set<R>(a, unit, &m0);
  if (kPair) m0 = unit * R;
  const int64_t m = a.set[s].m;
  const bool active = m0 < m;
  const uint8_t* rows[NR];
#pragma unroll
  for (int r = 0; r < NR; ++r) {
    const RowSet& rs = a.set[kPair ? s + r / R : s];
    rows[r] = reinterpret_cast<const uint8_t*>(rs.w) + min(m0 + r % R, m - 1) * rs.w_stride;
  }
  // Fetch the weights into L2 while the previous kernel ends (where they fit in L2 with room
  // to spare; larger ones are streamed at full bandwidth anyway).
  if (active && a.prefetch)
#pragma unroll
    for (int r = 0; r < NR; ++r)
      for (int64_t off = lane * 128; off < a.set[kPair ? s + r / R : s].row_bytes; off += 32 * 128)
        prefetch_l2(rows[r] + off);
  grid_wait();
  if (!active) return;
  float out[NR];
  if constexpr (T == BITNET_TYPE_I2_S) {
    int dot[NR];
#pragma unroll
    for (int r = 0; r < NR; ++r)
      dot[r] = 0;
    // The scales' loads go out with the first weights, not after the sums.
    double scales[kPair ? 2 : 1];
#pragma unroll
    for (int i = 0; i < (kPair ? 2 : 1); ++i)
      scales[i] = *a.set[s + i].i2s_scale;
    const double x_scale = static_cast<double>(*a.amax) / 127.0;
    ternary_dots<NR>(rows, a, lane, dot);
#pragma unroll
    for (int r = 0; r < NR; ++r) {
      const double scale = scales[kPair ? r / R : 0];
      out[r] = static_cast<float>(scale * static_cast<double>(warp_sum(dot[r])) * x_scale);
    }
  } else {
    float acc[NR];
#pragma unroll
    for (int r = 0; r < NR; ++r)
      acc[r] = 0.0f;
    float_dots<T, NR>(rows, a, lane, acc);
#pragma unroll
    for (int r = 0; r < NR; ++r)
      out[r] = warp_sum(acc[r]);
  }
  if (lane != 0) return;
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int64_t row = m0 + r;
    if (row >= m) break;
    if constexpr (kPair) {
      const float g = out[r], u = out[R + r];
      a.set[0].dst[row] = g;
      a.set[1].dst[row] = u;
      const float act = a.glu_silu ? g / (1.0f + expf(-g)) : (g > 0.0f ? g * g : 0.0f);
      a.glu_dst[row] = act * u;
    } else {
      a.set[s].dst[row] = out[r];
    }
  }
}

template <int T>
void launch_typed(const DecodeMatvec& a, cudaStream_t s) {
  if (a.glu_dst) {
    constexpr int R = 2;
    const int64_t units = (a.set[0].m + R - 1) / R;
    launch(decode_matvec<T, R, true>, static_cast<unsigned>((units + kWarps - 1) / kWarps),
           32 * kWarps, s, a);
    return;
  }
  constexpr int R = 4;
  int64_t units = 0;
  for (int i = 0; i < a.sets; ++i)
    units += (a.set[i].m + R - 1) / R;
  launch(decode_matvec<T, R, false>, static_cast<unsigned>((units + kWarps - 1) / kWarps),
         32 * kWarps, s, a);
}

}  // namespace

bool decode_matvec_type(int32_t type) {
  return type != BITNET_TYPE_TQ2_0;
}

void launch_decode_matvec(const DecodeMatvec& a, cudaStream_t s) {
  switch (a.type) {
    case BITNET_TYPE_I2_S:
      return launch_typed<BITNET_TYPE_I2_S>(a, s);
    case BITNET_TYPE_TQ2_0:
      return;
    default:
      dispatch_weight_type(a.type, [&]<int T>() {
        if constexpr (T != BITNET_TYPE_I2_S && T != BITNET_TYPE_TQ2_0) launch_typed<T>(a, s);
      });
  }
}

}  // namespace bitnet::cuda

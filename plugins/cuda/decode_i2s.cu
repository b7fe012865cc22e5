// Batch-1 I2_S matmuls (decode_rows.cuh has what they share with the other weight types). A
// decode step is latency-bound: each kernel moves a few MB, about a microsecond at full
// bandwidth, so what counts is how soon every load is in flight. The rows are read into
// registers whole (kItems 16-byte chunks a lane) before the kernel even waits for the previous
// one (weights are never written by a kernel), while the activation row is staged in shared
// memory; products are exact in int32 and scaled in double as the reference scales them.
// Staging the rows in shared memory instead, as decode_blocks.cu and decode_f16.cu do, was
// slower here: 2B4T decode 677-710 -> 646-666 tok/s on an H200 (one row a warp, 320-480
// blocks), 602-614 at these kernels' rows a warp.
#include "decode_rows.cuh"

namespace bitnet::cuda {
namespace {

// The sum of codes x activations of one chunk: group g's codes are masked in place (at shift
// 6 - 2g), so group g's sum comes out times 4^(3-g), an exact multiple shifted back once.
__device__ __forceinline__ int chunk_dot(uint4 w, const uint4* qc) {
  const uint32_t words[4] = {w.x, w.y, w.z, w.w};
  int d[4] = {};
#pragma unroll
  for (int g = 0; g < 4; ++g) {
    const uint4 q = qc[g];
    const int qv[4] = {static_cast<int>(q.x), static_cast<int>(q.y), static_cast<int>(q.z),
                       static_cast<int>(q.w)};
    const uint32_t mask = 0x03030303u << (6 - 2 * g);
#pragma unroll
    for (int j = 0; j < 4; ++j)
      d[g] = dp4a_us(words[j] & mask, qv[j], d[g]);
  }
  return (d[0] >> 6) + (d[1] >> 4) + (d[2] >> 2) + d[3];
}

// Walks a warp's items (item i: chunk i % chunks of row i / chunks) a lane at a time, 32
// items a step, without dividing: the walk with divisions held 30% of the stall samples.
struct ItemCursor {
  int row, chunk;
  __device__ ItemCursor(int first, int chunks) : row(first / chunks), chunk(first % chunks) {}
  __device__ void step(int chunks) {
    chunk += 32;
    while (chunk >= chunks) {
      chunk -= chunks;
      ++row;
    }
  }
};

// I2_S: 128 weights in 32 bytes, byte j holding weights j, j+32, j+64, j+96 at shifts 6, 4, 2,
// 0. The warp's NR rows times the row's chunks are spread evenly over its lanes (item i is
// chunk i % chunks of row i / chunks), kItems a lane per pass, so no lane idles on a short
// last round (a 2560-wide row is 40 chunks).
template <int R, bool kPair, bool kNorm>
__global__ void __launch_bounds__(kThreads) i2s_decode(DecodeMatvec a) {
  constexpr int NR = kPair ? 2 * R : R;
  extern __shared__ __align__(16) uint8_t shared[];
  const int lane = threadIdx.x % 32;
  const int64_t unit = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  int64_t m0 = 0;
  const int s = kPair ? 0 : find_set<R>(a, unit, &m0);
  if (kPair) m0 = unit * R;
  // Rows r < R of the warp are rows m0 + r of its set; a pair's rows R.. are the up set's.
  // Picked by constant indices: a dynamic one would copy the parameters to local memory.
  const RowSet& first_set = s == 0 ? a.set[0] : s == 1 ? a.set[1] : a.set[2];
  const RowSet& second_set = kPair ? a.set[1] : first_set;
  const int64_t m = first_set.m;
  const bool active = m0 < m;
  const int chunks = static_cast<int>(a.k / 64), items = NR * chunks;
  const auto row_start = [&](int r) {
    const bool second = kPair && r >= R;
    const RowSet& rs = second ? second_set : first_set;
    const int64_t row = set_row(rs, min(m0 + (second ? r - R : r), m - 1));
    return reinterpret_cast<const uint4*>(rs.w + static_cast<size_t>(row) * rs.w_stride);
  };
  uint4 w[kItems];
  // Where the lane's first item is: one division, shared by the first pass's load and dots.
  const ItemCursor at_lane(lane, chunks);
  // The warp's row starts are worked out once a pass and an item's picked by selects: worked
  // out per item (set_row, the clamp, the stride product) they were a quarter of the kernel's
  // instructions; an array indexed at run time would go to local memory.
  auto load = [&](int first) {
    const uint4* rows[NR];
#pragma unroll
    for (int r = 0; r < NR; ++r)
      rows[r] = row_start(r);
    ItemCursor c = first ? ItemCursor(first + lane, chunks) : at_lane;
#pragma unroll
    for (int j = 0; j < kItems; ++j, c.step(chunks)) {
      const uint4* p = rows[0];
#pragma unroll
      for (int r = 1; r < NR; ++r)
        p = c.row == r ? rows[r] : p;
      w[j] = active && first + lane + 32 * j < items ? p[c.chunk] : uint4{};
    }
  };
  // Everything that is no kernel's output is requested before the wait: the weights, their
  // scales and the norm's weight row (into L2).
  load(0);
  float scales[kPair ? 2 : 1];
#pragma unroll
  for (int i = 0; i < (kPair ? 2 : 1); ++i)
    scales[i] = *(i ? second_set : first_set).i2s_scale;
  float resid[R];
  wait_previous<R, kPair, kNorm>(a, s, m0, m, lane, resid);
  uint8_t* qs = shared + (kNorm ? a.k * sizeof(float) : 0);
  const Staged x = !kNorm ? stage_quantized(a, qs)
                   : a.k <= 16 * kThreads
                       ? stage_norm_held(a, qs)
                       : stage_norm<true>(a, reinterpret_cast<float*>(shared), qs);
  if (!active) return;
  int dot[NR] = {};
  if (NR > 1 && items <= 32 * kItems) {
    // One pass: each item's sum goes to shared memory in item order and the lanes then add up
    // a row each (32 / NR lanes a row), where picking the item's row among NR accumulators
    // took 3 NR instructions an item (a gate/up pair's dots were about half its warp's
    // instructions).
    int* parts =
        reinterpret_cast<int*>(qs + a.k / 64 * kChunkStride) + threadIdx.x / 32 * 32 * kItems;
    ItemCursor c = at_lane;
#pragma unroll
    for (int j = 0; j < kItems; ++j, c.step(chunks)) {
      if (32 * j >= items) break;
      if (lane + 32 * j < items)
        parts[lane + 32 * j] =
            chunk_dot(w[j], reinterpret_cast<const uint4*>(qs + c.chunk * kChunkStride));
    }
    __syncwarp();
    constexpr int kLanes = 32 / NR;
    const int mine = lane / kLanes;
    int sum = 0;
    for (int i = lane % kLanes; i < chunks; i += kLanes)
      sum += parts[mine * chunks + i];
#pragma unroll
    for (int o = kLanes / 2; o > 0; o >>= 1)
      sum += __shfl_xor_sync(0xffffffffu, sum, o);
#pragma unroll
    for (int r = 0; r < NR; ++r)
      dot[r] = __shfl_sync(0xffffffffu, sum, r * kLanes);
  } else {
    for (int first = 0; first < items; first += 32 * kItems) {
      if (first) load(first);
      ItemCursor c = first ? ItemCursor(first + lane, chunks) : at_lane;
#pragma unroll
      for (int j = 0; j < kItems; ++j, c.step(chunks)) {
        if (first + 32 * j >= items) break;
        if (first + lane + 32 * j >= items) continue;
        const int part =
            chunk_dot(w[j], reinterpret_cast<const uint4*>(qs + c.chunk * kChunkStride));
#pragma unroll
        for (int r = 0; r < NR; ++r)
          dot[r] += c.row == r ? part : 0;
      }
    }
#pragma unroll
    for (int r = 0; r < NR; ++r)
      dot[r] = warp_sum(dot[r]);
  }
  const double x_scale = static_cast<double>(x.amax) / 127.0;
  float out[NR];
#pragma unroll
  for (int r = 0; r < NR; ++r)
    out[r] = static_cast<float>(static_cast<double>(scales[kPair ? r / R : 0]) *
                                static_cast<double>(dot[r] - x.qsum) * x_scale);
  store_outputs<R, kPair>(a, s, m0, m, out, resid, lane);
}

template <int R, bool kPair>
void launch_i2s(const DecodeMatvec& a, cudaStream_t s) {
  const int64_t warps = warps_for(a, R, kPair);
  const size_t shared = decode_matvec_shared(a.type, a.k, a.norm.x);
  if (a.norm.x)
    launch_kernel(i2s_decode<R, kPair, true>, warps, shared, a, s);
  else
    launch_kernel(i2s_decode<R, kPair, false>, warps, shared, a, s);
}

}  // namespace

// As many rows a warp as one pass of its lanes' 320 items holds: four (a gate/up pair: four
// of each) where they fit and still give a block to each SM of an H200, else two, else one row
// in several passes (two where the epilogue rotates pairs of rows). Two rows a warp for 2B4T's
// q/k/v and o (120 and 80 blocks at four) took its decode from 750-788 to 762-823 tok/s
// (alternated runs); one row a warp for the o and the FFN down gave 669-697. Fewer items a
// lane for more blocks everywhere was slower too: 711-749 -> 659-691.
void launch_i2s_decode(const DecodeMatvec& a, cudaStream_t s) {
  const int64_t chunks = a.k / 64, lane_items = 32 * kItems;
  if (a.glu_dst) {
    if (8 * chunks <= lane_items) return launch_i2s<4, true>(a, s);
    if (4 * chunks <= lane_items) return launch_i2s<2, true>(a, s);
    return launch_i2s<1, true>(a, s);
  }
  if (4 * chunks <= lane_items && warps_for(a, 4, false) >= kFullGrid / 2 * kWarps)
    return launch_i2s<4, false>(a, s);
  if (2 * chunks <= lane_items || a.even_rows) return launch_i2s<2, false>(a, s);
  launch_i2s<1, false>(a, s);
}

}  // namespace bitnet::cuda

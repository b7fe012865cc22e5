// Batch-1 MUL_MAT (a decode step): a warp per R weight rows. Up to kMaxRowSets matmuls of the
// same activations run as one launch (q, k and v), a gate/up pair can finish with the GLU it
// feeds, a single matmul with the residual ADD after it, and the RMS_NORM before the matmuls
// can be computed by every block from its input row, so a layer needs few kernels.
//
// A decode step is latency-bound: each kernel moves a few MB, about a microsecond at full
// bandwidth, so what counts is how soon every load is in flight. I2_S rows are therefore read
// into registers whole (kItems 16-byte chunks a lane) before the kernel even waits for
// the previous one (weights are never written by a kernel), and the activation row is staged
// in shared memory while they arrive. Sums are those of the single-matmul kernels: ternary
// products exact in int32, float and block types in float in the same order, so grouping
// changes no result.
#include "dequant.cuh"
#include "kernels.hpp"
#include "launch.cuh"

namespace bitnet::cuda {
namespace {

constexpr int kWarps = 8;
constexpr int kThreads = 32 * kWarps;
// I2_S chunks (16 bytes, 64 weights) a lane holds per pass over its warp's rows: ten let a
// gate/up pair take four rows of 2560 a warp (one wave of blocks on an H200).
constexpr int kItems = 10;
// Bytes of one chunk's 64 int8 activations in shared memory: 16 of padding put the 16-byte
// loads of eight consecutive lanes in distinct banks.
constexpr int kChunkStride = 80;
constexpr size_t kSharedLimit = 48 * 1024;  // without opting in to more per launch

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

template <class V, bool kMax>
__device__ __forceinline__ V block_reduce(V v, V* partial) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const V other = __shfl_xor_sync(0xffffffffu, v, o);
    v = kMax ? (v > other ? v : other) : v + other;
  }
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
  __syncthreads();
  V total = partial[0];
#pragma unroll
  for (int w = 1; w < kWarps; ++w)
    total = kMax ? (total > partial[w] ? total : partial[w]) : total + partial[w];
  __syncthreads();
  return total;
}

// Where element i of an activation row goes in shared memory: I2_S chunk h (bytes 16h..16h+15
// of a row) pairs with elements (h/2)*128 + (h%2)*16 + 32g + 4w + j, byte 4w+j of word w of
// group g; they are stored as chunk h's 64 bytes in (g, w, j) order.
__device__ __forceinline__ int staged_byte(int i) {
  const int e = i % 128, g = e / 32, r = e % 32;
  return (2 * (i / 128) + r / 16) * kChunkStride + (4 * g + (r % 16) / 4) * 4 + r % 4;
}

// Vectors of a row a thread loads before it uses any of them: one round trip to L2 per
// kThreads * kBatch float4s, where a loop that uses each load before issuing the next would
// wait once per element (batching took 2B4T decode from 424 to 468 tok/s on an H200).
constexpr int kBatch = 4;

// v[b] = src[base + b * kThreads] where that is below n, else `fill`.
template <class V>
__device__ __forceinline__ void load_batch(const V* src, int base, int n, V fill, V* v) {
#pragma unroll
  for (int b = 0; b < kBatch; ++b)
    v[b] = base + b * kThreads < n ? src[base + b * kThreads] : fill;
}

// The staged activation row of a ternary matmul: its max|x| and the sum of its int8 values
// (codes c mean c - 1, so every row's dot product is sum(c*q) minus this sum).
struct Staged {
  float amax;
  int qsum;
};

// Sum of the four int8 lanes of each word.
__device__ __forceinline__ int byte_sum(uint4 v) {
  constexpr int kOnes = 0x01010101;
  return __dp4a(
      static_cast<int>(v.x), kOnes,
      __dp4a(static_cast<int>(v.y), kOnes,
             __dp4a(static_cast<int>(v.z), kOnes, __dp4a(static_cast<int>(v.w), kOnes, 0))));
}

// Adds every thread's `part` into *total (zeroed before a barrier the threads have passed).
__device__ __forceinline__ int block_total(int part, int* total) {
  part = __reduce_add_sync(0xffffffffu, part);
  if (threadIdx.x % 32 == 0) atomicAdd(total, part);
  __syncthreads();
  return *total;
}

// The RMS_NORM as launch_rms_norm computes it (float sums and scaling, the inverse root in
// double) into ys; with `qs`, also the row quantised for a ternary matmul (absmax floored at
// 1e-5, as launch_quantize_rows). Block 0 writes the norm's output. The row is read as
// float4s (k % 16 == 0 and 16-byte alignment: node_groups checks).
template <bool kQuantize>
__device__ Staged stage_norm(const DecodeMatvec& a, float* ys, uint8_t* qs) {
  __shared__ float part[kWarps];
  __shared__ int qsum;
  const int k = static_cast<int>(a.k), n4 = k / 4;
  const auto* x4 = reinterpret_cast<const float4*>(a.norm.x);
  const auto* w4 = reinterpret_cast<const float4*>(a.norm.weight);
  auto* y4 = reinterpret_cast<float4*>(ys);
  auto* out4 = reinterpret_cast<float4*>(a.norm.out);
  if (threadIdx.x == 0) qsum = 0;
  float sum = 0.0f;
  for (int base = threadIdx.x; base < n4; base += kThreads * kBatch) {
    float4 v[kBatch];
    load_batch(x4, base, n4, float4{}, v);
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      if (base + b * kThreads < n4) y4[base + b * kThreads] = v[b];
      sum = fmaf(v[b].x, v[b].x,
                 fmaf(v[b].y, v[b].y, fmaf(v[b].z, v[b].z, fmaf(v[b].w, v[b].w, sum))));
    }
  }
  sum = block_reduce<float, false>(sum, part);
  const float inv = static_cast<float>(
      1.0 / sqrt(static_cast<double>(sum) / k + static_cast<double>(a.norm.eps)));
  float amax = 1e-5f;
  for (int base = threadIdx.x; base < n4; base += kThreads * kBatch) {
    float4 w[kBatch];
    load_batch(w4, base, w4 ? n4 : 0, float4{1, 1, 1, 1}, w);
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      const int i = base + b * kThreads;
      if (i >= n4) break;
      const float4 x = y4[i];
      const float4 y{x.x * inv * w[b].x, x.y * inv * w[b].y, x.z * inv * w[b].z,
                     x.w * inv * w[b].w};
      y4[i] = y;
      amax = fmaxf(amax, fmaxf(fmaxf(fabsf(y.x), fabsf(y.y)), fmaxf(fabsf(y.z), fabsf(y.w))));
      if (blockIdx.x == 0) out4[i] = y;
    }
  }
  if constexpr (!kQuantize) {
    __syncthreads();
    return {amax, 0};
  }
  amax = block_reduce<float, true>(amax, part);
  const float iscale = __fdiv_rn(127.0f, amax);
  const auto q = [iscale](float v) {
    return static_cast<uint32_t>(min(max(__float2int_rn(__fmul_rn(v, iscale)), -128), 127)) & 0xffu;
  };
  int mine = 0;
  // Sixteen elements a thread: they are one 16-byte vector of the staged layout.
  for (int g = threadIdx.x; g < k / 16; g += kThreads) {
    uint4 packed;
    uint32_t* words = &packed.x;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float4 v = y4[4 * g + j];
      words[j] = q(v.x) | q(v.y) << 8 | q(v.z) << 16 | q(v.w) << 24;
    }
    *reinterpret_cast<uint4*>(qs + staged_byte(16 * g)) = packed;
    mine += byte_sum(packed);
  }
  return {amax, block_total(mine, &qsum)};
}

// The int8 row another kernel quantised (a.q, in element order) staged as stage_norm stages it.
__device__ Staged stage_quantized(const DecodeMatvec& a, uint8_t* qs) {
  __shared__ int qsum;
  const float amax = *a.amax;
  const auto* q16 = reinterpret_cast<const uint4*>(a.q);
  const int n16 = static_cast<int>(a.k / 16);
  if (threadIdx.x == 0) qsum = 0;
  int mine = 0;
  for (int base = threadIdx.x; base < n16; base += kThreads * kBatch) {
    uint4 v[kBatch];
    load_batch(q16, base, n16, uint4{}, v);
#pragma unroll
    for (int b = 0; b < kBatch; ++b)
      if (base + b * kThreads < n16) {
        *reinterpret_cast<uint4*>(qs + staged_byte(16 * (base + b * kThreads))) = v[b];
        mine += byte_sum(v[b]);
      }
  }
  __syncthreads();  // qsum's zero is seen before any thread adds to it
  return {amax, block_total(mine, &qsum)};
}

// The residual rows the ADD after the matmul takes (lane 0 stores), loaded as soon as they are
// valid so that they do not wait behind the products.
template <int R, bool kPair>
__device__ __forceinline__ void load_resid(const DecodeMatvec& a, int64_t m0, int64_t m, int lane,
                                           float* resid) {
#pragma unroll
  for (int r = 0; r < R; ++r)
    resid[r] = !kPair && a.resid_dst && lane == 0 && m0 + r < m ? a.resid[m0 + r] : 0.0f;
}

template <int R, bool kPair>
__device__ __forceinline__ void store_rows(const DecodeMatvec& a, int s, int64_t m0, int64_t m,
                                           const float* out, const float* resid) {
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
      if (a.resid_dst) a.resid_dst[row] = resid[r] + out[r];
    }
  }
}

// The warp's row pointers: rows m0..m0+R of its set (of sets 0 and 1 for a GLU pair), the last
// row repeated past the end.
template <int R, bool kPair, int NR>
__device__ __forceinline__ int warp_rows(const DecodeMatvec& a, int64_t* m0, int64_t* m,
                                         const uint8_t** rows) {
  const int64_t unit = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  int s = 0;
  if (kPair)
    *m0 = unit * R;
  else
    s = find_set<R>(a, unit, m0);
  *m = a.set[s].m;
#pragma unroll
  for (int r = 0; r < NR; ++r) {
    const RowSet& rs = a.set[kPair ? s + r / R : s];
    rows[r] = reinterpret_cast<const uint8_t*>(rs.w) + min(*m0 + r % R, *m - 1) * rs.w_stride;
  }
  return s;
}

// dp4a of unsigned bytes (masked codes) by signed bytes (activations).
__device__ __forceinline__ int dp4a_us(uint32_t a, int b, int c) {
  int d;
  asm("dp4a.u32.s32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
  return d;
}

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

// I2_S: 128 weights in 32 bytes, byte j holding weights j, j+32, j+64, j+96 at shifts 6, 4, 2,
// 0. The warp's NR rows times the row's chunks are spread evenly over its lanes (item i is
// chunk i % chunks of row i / chunks), kItems a lane per pass, so no lane idles on a short
// last round (a 2560-wide row is 40 chunks).
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
    const int64_t row = min(m0 + (second ? r - R : r), m - 1);
    return reinterpret_cast<const uint4*>(rs.w + static_cast<size_t>(row) * rs.w_stride);
  };
  uint4 w[kItems];
  auto load = [&](int first) {
    ItemCursor c(first + lane, chunks);
#pragma unroll
    for (int j = 0; j < kItems; ++j, c.step(chunks))
      w[j] = active && first + lane + 32 * j < items ? row_start(c.row)[c.chunk] : uint4{};
  };
  // Everything that is no kernel's output is requested before the wait: the weights, their
  // scales and the norm's weight row (into L2).
  load(0);
  float scales[kPair ? 2 : 1];
#pragma unroll
  for (int i = 0; i < (kPair ? 2 : 1); ++i)
    scales[i] = *(i ? second_set : first_set).i2s_scale;
  if (kNorm && a.norm.weight)
    for (int64_t i = threadIdx.x * 32; i < a.k; i += kThreads * 32)
      prefetch_l2(a.norm.weight + i);
  grid_wait();
  float resid[R];
  load_resid<R, kPair>(a, m0, m, lane, resid);
  uint8_t* qs = shared + (kNorm ? a.k * sizeof(float) : 0);
  const Staged x =
      kNorm ? stage_norm<true>(a, reinterpret_cast<float*>(shared), qs) : stage_quantized(a, qs);
  if (!active) return;
  int dot[NR] = {};
  for (int first = 0; first < items; first += 32 * kItems) {
    if (first) load(first);
    ItemCursor c(first + lane, chunks);
#pragma unroll
    for (int j = 0; j < kItems; ++j, c.step(chunks)) {
      if (first + 32 * j >= items) break;
      if (first + lane + 32 * j >= items) continue;
      const int part = chunk_dot(w[j], reinterpret_cast<const uint4*>(qs + c.chunk * kChunkStride));
#pragma unroll
      for (int r = 0; r < NR; ++r)
        dot[r] += c.row == r ? part : 0;
    }
  }
  const double x_scale = static_cast<double>(x.amax) / 127.0;
  float out[NR];
#pragma unroll
  for (int r = 0; r < NR; ++r)
    out[r] = static_cast<float>(static_cast<double>(scales[kPair ? r / R : 0]) *
                                static_cast<double>(warp_sum(dot[r]) - x.qsum) * x_scale);
  if (lane == 0) store_rows<R, kPair>(a, s, m0, m, out, resid);
}

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
  if (kNorm && a.norm.weight)
    for (int64_t i = threadIdx.x * 32; i < a.k; i += kThreads * 32)
      prefetch_l2(a.norm.weight + i);
  grid_wait();
  float resid[R];
  load_resid<R, kPair>(a, m0, m, lane, resid);
  const float* x = a.x;
  if constexpr (kNorm) {
    stage_norm<false>(a, reinterpret_cast<float*>(shared), nullptr);
    x = reinterpret_cast<const float*>(shared);
  }
  if (!active) return;
  float acc[NR] = {};
  float_dots<T, NR>(rows, x, a.k, lane, acc);
  float out[NR];
#pragma unroll
  for (int r = 0; r < NR; ++r)
    out[r] = warp_sum(acc[r]);
  if (lane == 0) store_rows<R, kPair>(a, s, m0, m, out, resid);
}

template <int R, bool kPair>
int64_t warps_for(const DecodeMatvec& a) {
  if (kPair) return (a.set[0].m + R - 1) / R;
  int64_t units = 0;
  for (int i = 0; i < a.sets; ++i)
    units += (a.set[i].m + R - 1) / R;
  return units;
}

template <class Kernel>
void launch_kernel(Kernel kernel, int64_t warps, const DecodeMatvec& a, cudaStream_t s) {
  const auto blocks = static_cast<unsigned>((warps + kWarps - 1) / kWarps);
  launch(kernel, blocks, kThreads, decode_matvec_shared(a.type, a.k, a.norm.x), s, a);
}

template <int R, bool kPair>
void launch_i2s(const DecodeMatvec& a, cudaStream_t s) {
  const int64_t warps = warps_for<R, kPair>(a);
  if (a.norm.x)
    launch_kernel(i2s_decode<R, kPair, true>, warps, a, s);
  else
    launch_kernel(i2s_decode<R, kPair, false>, warps, a, s);
}

template <int T, int R, bool kPair>
void launch_float(const DecodeMatvec& a, cudaStream_t s) {
  const int64_t warps = warps_for<R, kPair>(a);
  if (a.norm.x)
    launch_kernel(float_decode<T, R, kPair, true>, warps, a, s);
  else
    launch_kernel(float_decode<T, R, kPair, false>, warps, a, s);
}

// As many rows a warp as fill one pass of its lanes' items: a row of up to 4096 weights (64
// chunks) four at a time, of up to 8192 two, longer rows one at a time, in several passes.
// As many rows a warp as fill one pass of its lanes' items: a row of up to 2560 weights (40
// chunks) four at a time, of up to 10240 two, longer rows one at a time, in several passes.
void launch_i2s_typed(const DecodeMatvec& a, cudaStream_t s) {
  const int64_t chunks = a.k / 64, lane_items = 32 * kItems;
  if (a.glu_dst) {
    if (8 * chunks <= lane_items) return launch_i2s<4, true>(a, s);
    if (4 * chunks <= lane_items) return launch_i2s<2, true>(a, s);
    return launch_i2s<1, true>(a, s);
  }
  if (4 * chunks <= lane_items) return launch_i2s<4, false>(a, s);
  if (2 * chunks <= lane_items) return launch_i2s<2, false>(a, s);
  launch_i2s<1, false>(a, s);
}

template <int T>
void launch_typed(const DecodeMatvec& a, cudaStream_t s) {
  if (a.glu_dst)
    launch_float<T, 2, true>(a, s);
  else
    launch_float<T, 4, false>(a, s);
}

}  // namespace

bool decode_matvec_type(int32_t type) {
  return type != BITNET_TYPE_TQ2_0;
}

size_t decode_matvec_shared(int32_t type, int64_t k, bool norm) {
  const auto elements = static_cast<size_t>(k);
  return (norm ? elements * sizeof(float) : 0) +
         (type == BITNET_TYPE_I2_S ? elements / 64 * kChunkStride : 0);
}

size_t decode_matvec_shared_limit() {
  return kSharedLimit;
}

void launch_decode_matvec(const DecodeMatvec& a, cudaStream_t s) {
  switch (a.type) {
    case BITNET_TYPE_I2_S:
      return launch_i2s_typed(a, s);
    case BITNET_TYPE_TQ2_0:
      return;
    default:
      dispatch_weight_type(a.type, [&]<int T>() {
        if constexpr (T != BITNET_TYPE_I2_S && T != BITNET_TYPE_TQ2_0) launch_typed<T>(a, s);
      });
  }
}

}  // namespace bitnet::cuda

// What the batch-1 matvec kernels (decode_matvec.cu: float and block-quantised weights;
// decode_i2s.cu: I2_S; decode_blocks.cu: Q4_0/Q8_0; decode_f16.cu: F16) share: the block shape, the
// staging of the activation row in shared memory (with the RMS_NORM before the matmul computed
// there), the rows' epilogue (GLU pair, residual ADD) and the launch. Internal linkage: each kernel
// file gets its own copy.
#pragma once

#include "dequant.cuh"
#include "kernels.hpp"
#include "launch.cuh"
#include "rows.cuh"

namespace bitnet::cuda {

// The I2_S kernels' launcher (decode_i2s.cu).
void launch_i2s_decode(const DecodeMatvec& a, cudaStream_t s);
// The Q4_0 and Q8_0 kernels over int8 activations (decode_blocks.cu); false, launching
// nothing, where their layout does not apply (then decode_matvec.cu's float kernel runs).
bool launch_block_decode(const DecodeMatvec& a, cudaStream_t s);
// The F16 kernel with staged rows (decode_f16.cu); false where it does not apply.
bool launch_f16_decode(const DecodeMatvec& a, cudaStream_t s);

namespace {

constexpr int kWarps = 8;
constexpr int kThreads = 32 * kWarps;
// Dynamic shared memory a matvec kernel may take: above 48 KB a kernel must opt in, and 96 KB
// fits every GPU from sm_80 on (sm_86 and sm_89 allow 99 KB).
constexpr size_t kMaxShared = 96 * 1024;
// I2_S chunks (16 bytes, 64 weights) a lane holds per pass over its warp's rows: ten let a
// gate/up pair take four rows of 2560 a warp (one wave of blocks on an H200).
constexpr int kItems = 10;
// Shared memory of the I2_S kernel's per-item sums, after its staged activations.
constexpr size_t i2s_parts_bytes() {
  return kWarps * 32 * kItems * sizeof(int);
}
// Bytes of one I2_S chunk's 64 int8 activations in shared memory: 16 of padding put the
// 16-byte loads of eight consecutive lanes in distinct banks.
constexpr int kChunkStride = 80;

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

// The row of a set that a warp's row `l` is: l itself, except with a NEOX ROPE in the epilogue,
// where rows 2p and 2p + 1 are pair p's two rows (i, i + dims/2 of a head; past the rotated
// dims, two rows that stay as they are).
__device__ __forceinline__ int64_t set_row(const RowSet& rs, int64_t l) {
  const RowEpilogue& e = rs.epi;
  if (!e.neox) return l;
  const int half = e.dims / 2, pairs = e.head_dim / 2, p = static_cast<int>(l / 2);
  const int j = p % pairs, member = static_cast<int>(l % 2);
  const int at = j < half ? j + member * half : e.dims + 2 * (j - half) + member;
  return static_cast<int64_t>(p / pairs) * e.head_dim + at;
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
    rows[r] = reinterpret_cast<const uint8_t*>(rs.w) +
              set_row(rs, min(*m0 + r % R, *m - 1)) * rs.w_stride;
  }
  return s;
}

// The warp's NR weight rows of row_bytes (a multiple of 16, 16-byte aligned) copied into
// shared memory at `to`, 16 bytes a lane, without waiting: called before grid_wait, so the
// rows are on their way while the previous kernel ends (weights are never written by a kernel).
template <int NR>
__device__ __forceinline__ void stage_rows(uint8_t* to, const uint8_t* const* rows, int row_bytes,
                                           int lane) {
#pragma unroll
  for (int r = 0; r < NR; ++r)
    for (int c = lane; c < row_bytes / 16; c += 32) {
      const auto d = static_cast<uint32_t>(__cvta_generic_to_shared(to + r * row_bytes + 16 * c));
      asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(d), "l"(rows[r] + 16 * c));
    }
}

// Waits for this thread's stage_rows copies; a barrier after it shows them to the others.
__device__ __forceinline__ void wait_staged_rows() {
  asm volatile("cp.async.wait_all;" ::: "memory");
}

// Each call site passes its own `partial`: a reduction that reused another's would need a
// barrier after reading it, before the next one writes.
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

// dp4a of unsigned bytes (masked codes) by signed bytes (activations).
__device__ __forceinline__ int dp4a_us(uint32_t a, int b, int c) {
  int d;
  asm("dp4a.u32.s32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
  return d;
}

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

// Sixteen normalised elements quantised (as launch_quantize_rows) into one 16-byte vector of the
// staged layout at `to`; returns the sum of their int8 values.
__device__ __forceinline__ int stage_group(const float4* v, float iscale, uint8_t* to) {
  const auto q = [iscale](float e) {
    return static_cast<uint32_t>(min(max(__float2int_rn(__fmul_rn(e, iscale)), -128), 127)) & 0xffu;
  };
  uint4 packed;
  uint32_t* words = &packed.x;
#pragma unroll
  for (int j = 0; j < 4; ++j)
    words[j] = q(v[j].x) | q(v[j].y) << 8 | q(v[j].z) << 16 | q(v[j].w) << 24;
  *reinterpret_cast<uint4*>(to) = packed;
  return byte_sum(packed);
}

// The steps of the RMS_NORM as launch_rms_norm computes it, shared by stage_norm and
// stage_norm_held so both keep its arithmetic: the float sum of squares, the inverse root in
// double, and y = x * inv * w, whose largest |y| (from 1e-5, as launch_quantize_rows floors it)
// scales the quantised row.
__device__ __forceinline__ float add_squares(float4 v, float sum) {
  return fmaf(v.x, v.x, fmaf(v.y, v.y, fmaf(v.z, v.z, fmaf(v.w, v.w, sum))));
}

__device__ __forceinline__ float inverse_rms(float sum, int k, float eps) {
  return static_cast<float>(1.0 / sqrt(static_cast<double>(sum) / k + static_cast<double>(eps)));
}

__device__ __forceinline__ float4 normalise(float4 x, float inv, float4 w, float* amax) {
  const float4 y{x.x * inv * w.x, x.y * inv * w.y, x.z * inv * w.z, x.w * inv * w.w};
  *amax = fmaxf(*amax, fmaxf(fmaxf(fabsf(y.x), fabsf(y.y)), fmaxf(fabsf(y.z), fabsf(y.w))));
  return y;
}

// The RMS_NORM as launch_rms_norm computes it (float sums and scaling, the inverse root in
// double) into ys; with `qs`, also the row quantised for a ternary matmul (absmax floored at
// 1e-5, as launch_quantize_rows). Block 0 writes the norm's output. The row is read as
// float4s (k % 16 == 0 and 16-byte alignment: node_groups checks).
template <bool kQuantize>
__device__ Staged stage_norm(const DecodeMatvec& a, float* ys, uint8_t* qs) {
  __shared__ float squares[kWarps], largest[kWarps];
  __shared__ int qsum;
  const int k = static_cast<int>(a.k), n4 = k / 4;
  const auto* x4 = reinterpret_cast<const float4*>(a.norm.x);
  const auto* w4 = reinterpret_cast<const float4*>(a.norm.weight);
  auto* y4 = reinterpret_cast<float4*>(ys);
  auto* out4 = reinterpret_cast<float4*>(a.norm.out);
  if (threadIdx.x == 0) qsum = 0;
  // A row of one pass (2560 wide: 640 float4s) has its weight row loaded with it, not one round
  // trip to L2 later, after the sum.
  const bool one_pass = n4 <= kThreads * kBatch;
  float4 w[kBatch];
  float sum = 0.0f;
  for (int base = threadIdx.x; base < n4; base += kThreads * kBatch) {
    float4 v[kBatch];
    load_batch(x4, base, n4, float4{}, v);
    if (one_pass) load_batch(w4, base, w4 ? n4 : 0, float4{1, 1, 1, 1}, w);
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      if (base + b * kThreads < n4) y4[base + b * kThreads] = v[b];
      sum = add_squares(v[b], sum);
    }
  }
  const float inv = inverse_rms(block_reduce<float, false>(sum, squares), k, a.norm.eps);
  float amax = 1e-5f;
  for (int base = threadIdx.x; base < n4; base += kThreads * kBatch) {
    if (!one_pass) load_batch(w4, base, w4 ? n4 : 0, float4{1, 1, 1, 1}, w);
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      const int i = base + b * kThreads;
      if (i >= n4) break;
      const float4 y = normalise(y4[i], inv, w[b], &amax);
      y4[i] = y;
      if (blockIdx.x == 0) out4[i] = y;
    }
  }
  if constexpr (!kQuantize) {
    __syncthreads();
    return {amax, 0};
  }
  amax = block_reduce<float, true>(amax, largest);
  const float iscale = __fdiv_rn(127.0f, amax);
  int mine = 0;
  // Sixteen elements a thread: they are one 16-byte vector of the staged layout.
  for (int g = threadIdx.x; g < k / 16; g += kThreads)
    mine += stage_group(&y4[4 * g], iscale, qs + staged_byte(16 * g));
  return {amax, block_total(mine, &qsum)};
}

// The one-pass norm of a ternary matmul's row (k <= 16 * kThreads), as stage_norm computes it
// but with each thread's sixteen elements held in registers from their load to their quantised
// vector: stage_norm takes the row through shared memory as floats twice, which was about a
// fifth of the instructions a warp of the o matvec runs after its wait.
__device__ Staged stage_norm_held(const DecodeMatvec& a, uint8_t* qs) {
  __shared__ float squares[kWarps], largest[kWarps];
  __shared__ int qsum;
  const int k = static_cast<int>(a.k), g = threadIdx.x;
  const bool holds = 16 * g < k;
  const auto* x4 = reinterpret_cast<const float4*>(a.norm.x) + 4 * g;
  const auto* w4 = reinterpret_cast<const float4*>(a.norm.weight) + 4 * g;
  if (threadIdx.x == 0) qsum = 0;
  float4 x[4], w[4];
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    x[j] = holds ? x4[j] : float4{};
    w[j] = holds && a.norm.weight ? w4[j] : float4{1, 1, 1, 1};
  }
  float sum = 0.0f;
#pragma unroll
  for (int j = 0; j < 4; ++j)
    sum = add_squares(x[j], sum);
  const float inv = inverse_rms(block_reduce<float, false>(sum, squares), k, a.norm.eps);
  float amax = 1e-5f;
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    x[j] = normalise(x[j], inv, w[j], &amax);
    if (blockIdx.x == 0 && holds) reinterpret_cast<float4*>(a.norm.out)[4 * g + j] = x[j];
  }
  amax = block_reduce<float, true>(amax, largest);
  const int mine = holds ? stage_group(x, __fdiv_rn(127.0f, amax), qs + staged_byte(16 * g)) : 0;
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

// Where lane l < 2 of a warp keeps the rotation of the ROPE pair it stores (store_pairs).
__device__ __forceinline__ double2* rotation_slot(int lane) {
  __shared__ double2 slots[kWarps * 2];
  return &slots[threadIdx.x / 32 * 2 + lane];
}

// The rotations store_pairs applies, into rotation_slot before the wait: the double pow and
// sincos had been on the path of every q/k matvec's end. Positions may be read this early:
// they are an input of the graph, uploaded before it starts, and no op writes I32 tensors.
template <int R, bool kPair>
__device__ __forceinline__ void prepare_rotations(const DecodeMatvec& a, int s, int64_t m0,
                                                  int lane) {
  static_assert(R <= 4, "rotation_slot holds two pairs a warp");
  if constexpr (!kPair && R % 2 == 0) {
    const RowSet& rs = s == 0 ? a.set[0] : s == 1 ? a.set[1] : a.set[2];
    const RowEpilogue& e = rs.epi;
    if (!a.even_rows || !e.rope_dst || lane >= R / 2 || m0 + 2 * lane >= rs.m) return;
    const int row = static_cast<int>(set_row(rs, m0 + 2 * lane));  // below 2^31 (check_node)
    const int at = row - row / e.head_dim * e.head_dim;
    if (at < e.dims)
      *rotation_slot(lane) = rope_rotation(*e.pos, e.neox ? at : at / 2, e.dims, e.base);
  }
}

// Around the wait for the previous kernel: before it the norm's weight row goes to L2 (a
// weight, never written by a kernel) and the rows' ROPE rotations are worked out; after it the
// residual rows the ADD after the matmul takes (lane 0 stores them) are loaded at once, so
// that they do not wait behind the products.
template <int R, bool kPair, bool kNorm>
__device__ __forceinline__ void wait_previous(const DecodeMatvec& a, int s, int64_t m0, int64_t m,
                                              int lane, float* resid) {
  if (kNorm && a.norm.weight)
    for (int64_t i = threadIdx.x * 32; i < a.k; i += kThreads * 32)
      prefetch_l2(a.norm.weight + i);
  prepare_rotations<R, kPair>(a, s, m0, lane);
  grid_wait();
#pragma unroll
  for (int r = 0; r < R; ++r)
    resid[r] = !kPair && a.resid_dst && lane == 0 && m0 + r < m ? a.resid[m0 + r] : 0.0f;
}

// The warp's R rows (from m0, a multiple of R) into host memory in one store where it can:
// stored one float at a time, a 1B Q4_0 head's 128k rows stretched its kernel by about 100 us
// (small writes to host memory go at about a billion a second).
template <int R>
__device__ __forceinline__ void mirror_rows(float* to, int64_t m0, int64_t m, const float* out) {
  if constexpr (R == 4) {
    if (m0 + 4 <= m) {
      *reinterpret_cast<float4*>(to + m0) = float4{out[0], out[1], out[2], out[3]};
      return;
    }
  } else if constexpr (R == 2) {
    if (m0 + 2 <= m) {
      *reinterpret_cast<float2*>(to + m0) = float2{out[0], out[1]};
      return;
    }
  }
#pragma unroll
  for (int r = 0; r < R; ++r)
    if (m0 + r < m) to[m0 + r] = out[r];
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
      a.glu_dst[row] = glu_element(g, u, a.glu_silu);
    } else {
      a.set[s].dst[row] = out[r];
      if (a.resid_dst) a.resid_dst[row] = resid[r] + out[r];
    }
  }
  if constexpr (!kPair)
    if (a.mirror) mirror_rows<R>(a.mirror, m0, m, out);
}

// Rows m0.. of a set with a RowEpilogue, stored by lanes l < R / 2: the warp's rows 2l and 2l + 1
// are a pair of the ROPE (R, m and head_dim are even: launchers and node_groups see to it).
template <int R>
__device__ __forceinline__ void store_pairs(const RowSet& rs, int64_t m0, const float* out,
                                            int lane) {
  float xa = 0.0f, xb = 0.0f;
#pragma unroll
  for (int p = 0; p < R / 2; ++p)
    if (lane == p) {
      xa = out[2 * p];
      xb = out[2 * p + 1];
    }
  if (lane >= R / 2 || m0 + 2 * lane >= rs.m) return;
  const int64_t ra = set_row(rs, m0 + 2 * lane), rb = set_row(rs, m0 + 2 * lane + 1);
  rs.dst[ra] = xa;
  rs.dst[rb] = xb;
  const RowEpilogue& e = rs.epi;
  // Elements of the head: a below the rotated dims when the pair is rotated. Rows are below
  // 2^31 (check_node), and 32-bit divisions are a fraction of 64-bit ones.
  const int head = static_cast<int>(ra) / e.head_dim;
  const int a = static_cast<int>(ra) - head * e.head_dim,
            b = static_cast<int>(rb) - head * e.head_dim;
  float2 y{xa, xb};
  if (e.rope_dst) {
    if (a < e.dims) y = rotate(xa, xb, *rotation_slot(lane));
    e.rope_dst[ra] = y.x;
    e.rope_dst[rb] = y.y;
  }
  if (e.store) {
    DevTensor cache = e.store_dst;
    cache.data = address_of(e.store_address);
    char* to = row_of(cache, head);
    store_element(to, cache.type, a, y.x);
    store_element(to, cache.type, b, y.y);
  }
}

// Every lane of the warp calls this with the warp's NR sums.
template <int R, bool kPair>
__device__ __forceinline__ void store_outputs(const DecodeMatvec& a, int s, int64_t m0, int64_t m,
                                              const float* out, const float* resid, int lane) {
  if constexpr (!kPair && R % 2 == 0) {
    const RowSet& rs = s == 0 ? a.set[0] : s == 1 ? a.set[1] : a.set[2];
    if (a.even_rows && (rs.epi.rope_dst || rs.epi.store)) return store_pairs<R>(rs, m0, out, lane);
  }
  if (lane == 0) store_rows<R, kPair>(a, s, m0, m, out, resid);
}

// The start of the kernels that stage their rows (decode_blocks.cu, decode_f16.cu): the warp's
// NR rows of row_bytes copied to its part of shared memory before the wait (wait_previous),
// then, with kNorm, the normalised activation row computed after all warps' rows; `x` is the
// activation row, `after` the shared memory past what these take.
template <int R, bool kPair, bool kNorm>
struct StagedStart {
  static constexpr int NR = kPair ? 2 * R : R;
  int set;
  int64_t m0 = 0, m = 0;
  bool active;
  const uint8_t* weights;
  float resid[R];
  const float* x;
  uint8_t* after;

  __device__ StagedStart(const DecodeMatvec& a, uint8_t* shared, int row_bytes, int lane) {
    const uint8_t* rows[NR];
    set = warp_rows<R, kPair, NR>(a, &m0, &m, rows);
    active = m0 < m;
    uint8_t* mine = shared + threadIdx.x / 32 * NR * row_bytes;
    weights = mine;
    if (active) stage_rows<NR>(mine, rows, row_bytes, lane);
    wait_previous<R, kPair, kNorm>(a, set, m0, m, lane, resid);
    after = shared + kWarps * NR * row_bytes;
    x = a.x;
    if constexpr (kNorm) {
      stage_norm<false>(a, reinterpret_cast<float*>(after), nullptr);
      x = reinterpret_cast<const float*>(after);
      after += a.k * sizeof(float);
    }
  }
};

// The warp's float sums of its NR rows, added across lanes and stored by lane 0.
template <int R, bool kPair, int NR>
__device__ __forceinline__ void finish_rows(const DecodeMatvec& a, int s, int64_t m0, int64_t m,
                                            const float* acc, const float* resid, int lane) {
  float out[NR];
#pragma unroll
  for (int r = 0; r < NR; ++r)
    out[r] = warp_sum(acc[r]);
  store_outputs<R, kPair>(a, s, m0, m, out, resid, lane);
}

int64_t warps_for(const DecodeMatvec& a, int rows, bool pair) {
  if (pair) return (a.set[0].m + rows - 1) / rows;
  int64_t units = 0;
  for (int i = 0; i < a.sets; ++i)
    units += (a.set[i].m + rows - 1) / rows;
  return units;
}

// Blocks enough for two on each SM of an H100/H200 (132).
constexpr int64_t kFullGrid = 264;

// Rows a warp takes (of each set of a pair): four share each activation load among four rows,
// but leave a 2048-row matmul 64 blocks; so four where that still leaves two blocks for each SM
// and `bytes(rows)` of shared memory fit, else two, else one (two with even_rows).
template <class Bytes>
int rows_per_warp(const DecodeMatvec& a, bool pair, Bytes bytes) {
  for (int r = 4; r > 1; r /= 2)
    if (warps_for(a, r, pair) >= kFullGrid * kWarps && bytes(pair ? 2 * r : r) <= kMaxShared)
      return r;
  return a.even_rows ? 2 : 1;
}

// The weight rows and the activation row start on 16-byte boundaries, as stage_rows and the
// kernels' 16-byte loads need.
inline bool rows_aligned16(const DecodeMatvec& a) {
  if (!aligned16(a.norm.x ? a.norm.x : a.x)) return false;
  for (int i = 0; i < a.sets; ++i)
    if (!aligned16(a.set[i].w) || a.set[i].w_stride % 16) return false;
  return true;
}

// For the kernels that stage their rows (decode_blocks.cu, decode_f16.cu): calls
// `launch_rows.template operator()<R>(bytes(NR))` at the rows a warp rows_per_warp picks;
// false, launching nothing, where one row a warp does not fit in shared memory.
template <class Bytes, class Launch>
bool launch_staged(const DecodeMatvec& a, bool pair, Bytes bytes, Launch launch_rows) {
  if (bytes(pair || a.even_rows ? 2 : 1) > kMaxShared) return false;
  switch (rows_per_warp(a, pair, bytes)) {
    case 4:
      launch_rows.template operator()<4>(bytes(pair ? 8 : 4));
      break;
    case 2:
      launch_rows.template operator()<2>(bytes(pair ? 4 : 2));
      break;
    default:
      launch_rows.template operator()<1>(bytes(pair ? 2 : 1));
  }
  return true;
}

template <class Kernel>
void launch_kernel(Kernel kernel, int64_t warps, size_t shared, const DecodeMatvec& a,
                   cudaStream_t s) {
  // Without opting in, a kernel's static and dynamic shared memory together stay within 48 KB;
  // the static part (reductions, ROPE rotations) is under 1 KB.
  if (shared > 47 * 1024)
    cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                         static_cast<int>(shared));
  const auto blocks = static_cast<unsigned>((warps + kWarps - 1) / kWarps);
  launch(kernel, blocks, kThreads, shared, s, a);
}

}  // namespace
}  // namespace bitnet::cuda

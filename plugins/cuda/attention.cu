// ATTENTION: one block per (head, query), causal softmax over keys 0..pos in chunks of kChunk
// keys. Each chunk takes three passes, every one spread over the whole block so that many
// loads are in flight at once (a decode step is latency-bound, not arithmetic-bound): kSlices
// threads per key for the scores, the block for max and sum, then threads in groups of kDims
// dimensions across keys for the weighted sum of V. Sums are kept in double, as the reference
// computes them, and chunks are merged by the running maximum.
#include "dequant.cuh"
#include "kernels.hpp"
#include "kv_rows.cuh"
#include "launch.cuh"

namespace bitnet::cuda {
namespace {

// Threads of a block: a decode step (few queries, few blocks) takes more, so that its keys are
// spread over more threads; prefill has blocks enough for every SM and takes fewer.
constexpr int kDecodeThreads = 512, kPrefillThreads = 256, kDecodeQueries = 4;
constexpr int kChunk = 1024;  // keys whose scores are held in shared memory at a time
constexpr int kDims = 8;      // consecutive dimensions a thread takes in the V pass
constexpr int kMaxHeadDim = 256;
constexpr int kSlices = 8;  // threads that share one key's score

// Block-wide max or sum of one double per thread; every thread gets the result. The max and the
// sum of a chunk each have their own `partial`, so no barrier follows the read: the other
// reduction's barrier lies between a read and the next write of the same array.
template <int kThreads>
__device__ __forceinline__ double block_reduce(double v, bool max, double* partial) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const double other = __shfl_xor_sync(0xffffffffu, v, o);
    v = max ? fmax(v, other) : v + other;
  }
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
  __syncthreads();
  double total = partial[0];
#pragma unroll
  for (int w = 1; w < kThreads / 32; ++w)
    total = max ? fmax(total, partial[w]) : total + partial[w];
  return total;
}

// This block's share of the K and V rows of keys 0..n_kv into L2, before the wait: most were
// written steps ago and have left L2 since, behind a step's weights. The key count is a host
// copy made before the graph, not a kernel's output, and a prefetch returns nothing, so the
// rows the previous kernel is still writing cannot be read stale.
__device__ __forceinline__ void prefetch_keys(const DevTensor& k, const DevTensor& v,
                                              Dynamic n_keys) {
  const int64_t n_kv = n_keys.values[n_keys.slot];
  const unsigned blocks = gridDim.x * gridDim.y, block = blockIdx.y * gridDim.x + blockIdx.x;
  for (const DevTensor* t : {&k, &v}) {
    if (reinterpret_cast<uintptr_t>(t->data) % 16 || n_kv < 1) continue;
    // Up to the last byte of key n_kv - 1 (no further: the view may end its buffer).
    const size_t row = t->ne[0] * (t->type == BITNET_TYPE_F16 ? 2 : 4);
    const size_t bytes = ((n_kv - 1) * t->nb[2] + (t->ne[1] - 1) * t->nb[1] + row) / 16 * 16;
    const size_t share = (bytes / blocks + 15) / 16 * 16, from = min(bytes, block * share);
    prefetch_l2_range(t->data + from, min(share, bytes - from));
  }
}

// HD: the head dimension when known at compile time (the dot products' loads are then all in
// flight at once), 0 for any other.
template <int HD, int kThreads>
__global__ void __launch_bounds__(kThreads)
    attention(DevTensor dst, DevTensor q, DevTensor k, DevTensor v, Dynamic n_keys,
              const int32_t* pos, float scale, ErrorFlag err, int32_t node) {
  prefetch_keys(k, v, n_keys);
  grid_wait();
  __shared__ float qs[kMaxHeadDim];
  __shared__ double weight[kChunk];
  __shared__ double maxima[kThreads / 32], sums[kThreads / 32];
  __shared__ double merged[kThreads * kDims];  // [group][dimension], groups * hd at most
  const int head = blockIdx.x, t = blockIdx.y;
  const int hd = HD ? HD : static_cast<int>(q.ne[0]);
  const int64_t n_kv = n_keys.values[n_keys.slot], kvh = head / (q.ne[1] / k.ne[1]);
  const int32_t p = pos[t];
  if (p < 0 || p >= n_kv) {
    if (threadIdx.x == 0) *err = node + 1;
    return;
  }
  const float* qr = reinterpret_cast<const float*>(q.data + head * q.nb[1] + t * q.nb[2]);
  const char* k0 = k.data + kvh * k.nb[1];
  const char* v0 = v.data + kvh * v.nb[1];
  // V pass layout: `groups` groups of `per_key` threads, a group per key, kDims dims a thread.
  const int per_key = (hd + kDims - 1) / kDims, groups = kThreads / per_key;
  const int group = threadIdx.x / per_key, d0 = (threadIdx.x % per_key) * kDims;
  const bool in_v_pass = group < groups;
  // A short decode step is a chain of round trips to memory: the value row each thread starts
  // the V pass with goes out with q's.
  const int first_count = static_cast<int>(p + 1 < kChunk ? p + 1 : kChunk);
  float v_first[kDims] = {};
  if (in_v_pass && group < first_count) kv8(v0 + group * v.nb[2], v.type, d0, hd, v_first);
  for (int i = threadIdx.x; i < hd; i += kThreads)
    qs[i] = qr[i];
  __syncthreads();
  double acc[kDims] = {};
  double m = -INFINITY, l = 0.0;
  for (int64_t c0 = 0; c0 <= p; c0 += kChunk) {
    const int count = static_cast<int>(p + 1 - c0 < kChunk ? p + 1 - c0 : kChunk);
    double chunk_max = -INFINITY;
    // kSlices threads a key, each taking every kSlices-th run of 8 dimensions and combining
    // its sums with the others' by shuffles: the keys' loads are all in flight together and no
    // thread runs head_dim multiply-adds in a row while the block waits for it.
    const int slice = threadIdx.x % kSlices;
    for (int j0 = 0; j0 < count; j0 += kThreads / kSlices) {
      const int j = j0 + threadIdx.x / kSlices;
      double s[4] = {};
      if (j < count) {
        const char* kr = k0 + (c0 + j) * k.nb[2];
#pragma unroll
        for (int step = 0; step < (HD ? HD : kMaxHeadDim) / (8 * kSlices); ++step) {
          const int i = 8 * (slice + step * kSlices);
          if (!HD && i >= hd) break;
          float kv[8];
          kv8(kr, k.type, i, hd, kv);
#pragma unroll
          for (int e = 0; e < 8; ++e)
            if (i + e < hd)
              s[e % 4] = fma(static_cast<double>(qs[i + e]), static_cast<double>(kv[e]), s[e % 4]);
        }
      }
      double score = (s[0] + s[1]) + (s[2] + s[3]);
#pragma unroll
      for (int o = 1; o < kSlices; o <<= 1)
        score += __shfl_xor_sync(0xffffffffu, score, o);
      if (j < count && slice == 0) {
        score *= static_cast<double>(scale);
        weight[j] = score;
        chunk_max = fmax(chunk_max, score);
      }
    }
    const double m_new = fmax(m, block_reduce<kThreads>(chunk_max, true, maxima));
    double chunk_sum = 0.0;
    for (int j = threadIdx.x; j < count; j += kThreads) {
      const double w = exp(weight[j] - m_new);
      weight[j] = w;
      chunk_sum += w;
    }
    const double correction = exp(m - m_new);
    l = l * correction + block_reduce<kThreads>(chunk_sum, false, sums);
    m = m_new;
    if (in_v_pass) {
#pragma unroll
      for (int e = 0; e < kDims; ++e)
        acc[e] *= correction;
#pragma unroll 8
      for (int j = group; j < count; j += groups) {
        float vv[8];
        if (c0 == 0 && j == group) {
#pragma unroll
          for (int e = 0; e < kDims; ++e)
            vv[e] = v_first[e];
        } else {
          kv8(v0 + (c0 + j) * v.nb[2], v.type, d0, hd, vv);
        }
        const double w = weight[j];
#pragma unroll
        for (int e = 0; e < kDims; ++e)
          acc[e] = fma(w, static_cast<double>(vv[e]), acc[e]);
      }
    }
    __syncthreads();  // the next chunk overwrites `weight`
  }
  if (in_v_pass && d0 < hd)
#pragma unroll
    for (int e = 0; e < kDims; ++e)
      if (d0 + e < hd) merged[group * hd + d0 + e] = acc[e];
  __syncthreads();
  float* out = reinterpret_cast<float*>(dst.data + head * dst.nb[1] + t * dst.nb[2]);
  for (int i = threadIdx.x; i < hd; i += kThreads) {
    double sum = 0.0;
    for (int g = 0; g < groups; ++g)
      sum += merged[g * hd + i];
    out[i] = static_cast<float>(sum / l);
  }
}

template <int kThreads>
void launch_threads(const DevTensor& dst, const DevTensor& q, const DevTensor& k,
                    const DevTensor& v, Dynamic n_kv, const int32_t* pos, float scale,
                    ErrorFlag err, int32_t node, cudaStream_t s) {
  const dim3 grid(static_cast<unsigned>(q.ne[1]), static_cast<unsigned>(q.ne[2]));
  switch (q.ne[0]) {
    case 64:
      return launch(attention<64, kThreads>, grid, kThreads, s, dst, q, k, v, n_kv, pos, scale, err,
                    node);
    case 128:
      return launch(attention<128, kThreads>, grid, kThreads, s, dst, q, k, v, n_kv, pos, scale,
                    err, node);
    default:
      return launch(attention<0, kThreads>, grid, kThreads, s, dst, q, k, v, n_kv, pos, scale, err,
                    node);
  }
}

}  // namespace

void launch_attention(const DevTensor& dst, const DevTensor& q, const DevTensor& k,
                      const DevTensor& v, Dynamic n_kv, const int32_t* pos, float scale,
                      ErrorFlag err, int32_t node, cudaStream_t s) {
  if (q.ne[2] <= kDecodeQueries)
    return launch_threads<kDecodeThreads>(dst, q, k, v, n_kv, pos, scale, err, node, s);
  if (launch_attention_prefill(dst, q, k, v, n_kv, pos, scale, err, node, s)) return;
  launch_threads<kPrefillThreads>(dst, q, k, v, n_kv, pos, scale, err, node, s);
}

int max_attention_head_dim() {
  return kMaxHeadDim;
}

}  // namespace bitnet::cuda

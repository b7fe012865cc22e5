// ATTENTION over many queries (prefill) on the FP64 tensor cores: a block takes 32 queries of
// one head, a warp 8 of them, and walks the keys in tiles of 32 staged in shared memory as
// doubles, so each key is read once per 32 queries instead of once per query. Scores (Q K^T)
// and the weighted values (P V) are m8n8k4 double MMAs; the softmax is merged tile by tile by
// the running maximum. Everything is double, as in attention.cu and the reference, so the
// result differs from theirs only in summation order (about 1e-16), not in rounding to float.
// The per-query kernel (attention.cu) re-read every key for every query, in double FMAs; a
// 512-token prefill spent 44-47% of its time there.
#include <bitnet/types.h>

#include "kernels.hpp"
#include "kv_rows.cuh"
#include "launch.cuh"

namespace bitnet::cuda {
namespace {

constexpr int kWarps = 4, kThreads = 32 * kWarps;
constexpr int kRows = 8;                  // queries a warp takes: the MMA's m
constexpr int kQueries = kRows * kWarps;  // queries a block takes
constexpr int kKeys = 32;                 // keys a tile stages
constexpr int kPad = 4;                   // doubles after each staged row (see smem_row)

// A row of `n` doubles staged with kPad more: for n a multiple of 16, the fragments' loads
// (8 rows x 4 columns, or 4 rows x 8 columns) of each half-warp then fall in distinct banks.
__host__ __device__ constexpr int smem_row(int n) {
  return n + kPad;
}

template <int HD>
constexpr size_t shared_bytes() {
  return sizeof(double) * (2 * kKeys * smem_row(HD) + kWarps * kRows * smem_row(kKeys));
}

// c += a * b for an 8x4 row-major A and a 4x8 column-major B, one element of each per lane:
// lane i holds A[i/4][i%4], B[i%4][i/4] and C[i/4][2(i%4)], C[i/4][2(i%4)+1].
__device__ __forceinline__ void mma(double (&c)[2], double a, double b) {
  asm("mma.sync.aligned.m8n8k4.row.col.f64.f64.f64.f64 {%0,%1}, {%2}, {%3}, {%0,%1};"
      : "+d"(c[0]), "+d"(c[1])
      : "d"(a), "d"(b));
}

// Elements i..i+7 of an F16 or F32 row of HD elements as doubles (exact).
template <int HD>
__device__ __forceinline__ void row8(const char* row, int32_t type, int i, double* out) {
  float f[8];
  kv8(row, type, i, HD, f);
#pragma unroll
  for (int e = 0; e < 8; ++e)
    out[e] = f[e];
}

__device__ __forceinline__ double quad_max(double v) {
  v = fmax(v, __shfl_xor_sync(0xffffffffu, v, 1));
  return fmax(v, __shfl_xor_sync(0xffffffffu, v, 2));
}

__device__ __forceinline__ double quad_sum(double v) {
  v += __shfl_xor_sync(0xffffffffu, v, 1);
  return v + __shfl_xor_sync(0xffffffffu, v, 2);
}

template <int HD>
__global__ void __launch_bounds__(kThreads)
    attention_prefill(DevTensor dst, DevTensor q, DevTensor k, DevTensor v, Dynamic n_keys,
                      const int32_t* pos, float scale, ErrorFlag err, int32_t node) {
  extern __shared__ double smem[];
  double* ks = smem;
  double* vs = ks + kKeys * smem_row(HD);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int r = lane / 4, c = lane % 4;  // the row and column of this lane's MMA fragments
  double* ps = vs + kKeys * smem_row(HD) + warp * kRows * smem_row(kKeys);
  __shared__ int block_last;
  // The last query tiles see the most keys: they start first.
  const int64_t n_q = q.ne[2];
  const int64_t t0 = (static_cast<int64_t>(gridDim.x) - 1 - blockIdx.x) * kQueries;
  const int head = blockIdx.y;
  const int64_t kvh = head / (q.ne[1] / k.ne[1]);
  grid_wait();
  const int64_t n_kv = n_keys.values[n_keys.slot];
  const int64_t t = t0 + warp * kRows + r;  // this lane's query
  const int p = t < n_q ? pos[t] : -1;
  const bool bad = t < n_q && (p < 0 || p >= n_kv);
  if (threadIdx.x == 0) block_last = -1;
  __syncthreads();
  if (c == 0) atomicMax(&block_last, p);
  if (__syncthreads_or(bad)) {
    if (threadIdx.x == 0) *err = node + 1;
    return;
  }
  const int last = block_last, warp_last = __reduce_max_sync(0xffffffffu, p);

  // Q as A fragments, one per 4 dimensions: Q[r][4s + c].
  double qa[HD / 4];
  const float* qr = reinterpret_cast<const float*>(q.data + head * q.nb[1] + t * q.nb[2]);
#pragma unroll
  for (int s = 0; s < HD / 4; ++s)
    qa[s] = t < n_q ? static_cast<double>(qr[4 * s + c]) : 0.0;
  double o[HD / 8][2] = {};
  double m = -INFINITY, l = 0.0;
  const char* k0 = k.data + kvh * k.nb[1];
  const char* v0 = v.data + kvh * v.nb[1];

  for (int kt = 0; kt <= last; kt += kKeys) {
    // Stage keys and values kt .. kt+31; past the block's last key, zeros (masked below).
    __syncthreads();
    for (int item = threadIdx.x; item < kKeys * HD / 8; item += kThreads) {
      const int j = item / (HD / 8), d = (item % (HD / 8)) * 8;
      double kv[8] = {}, vv[8] = {};
      if (kt + j <= last) {
        row8<HD>(k0 + (kt + j) * k.nb[2], k.type, d, kv);
        row8<HD>(v0 + (kt + j) * v.nb[2], v.type, d, vv);
      }
      auto* kd = reinterpret_cast<double2*>(ks + j * smem_row(HD) + d);
      auto* vd = reinterpret_cast<double2*>(vs + j * smem_row(HD) + d);
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        kd[e] = make_double2(kv[2 * e], kv[2 * e + 1]);
        vd[e] = make_double2(vv[2 * e], vv[2 * e + 1]);
      }
    }
    __syncthreads();
    if (kt > warp_last) continue;

    // Scores of this lane's row for keys kt + 8j + 2c + e.
    double sc[kKeys / 8][2] = {};
#pragma unroll
    for (int s = 0; s < HD / 4; ++s)
#pragma unroll
      for (int j = 0; j < kKeys / 8; ++j)
        mma(sc[j], qa[s], ks[(8 * j + r) * smem_row(HD) + 4 * s + c]);
    double tile_max = -INFINITY;
#pragma unroll
    for (int j = 0; j < kKeys / 8; ++j)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int key = kt + 8 * j + 2 * c + e;
        sc[j][e] = key <= p ? sc[j][e] * static_cast<double>(scale) : -INFINITY;
        tile_max = fmax(tile_max, sc[j][e]);
      }
    const double m_new = fmax(m, quad_max(tile_max));
    // A row with no key yet (padding, or a query whose position is below this tile) keeps
    // m = -inf; exp(-inf - -inf) would be NaN.
    const bool live = m_new != -INFINITY;
    const double correction = live ? exp(m - m_new) : 1.0;
    double row_sum = 0.0;
#pragma unroll
    for (int j = 0; j < kKeys / 8; ++j)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const double w = live ? exp(sc[j][e] - m_new) : 0.0;
        ps[r * smem_row(kKeys) + 8 * j + 2 * c + e] = w;
        row_sum += w;
      }
    l = l * correction + quad_sum(row_sum);
    m = m_new;
#pragma unroll
    for (int d = 0; d < HD / 8; ++d) {
      o[d][0] *= correction;
      o[d][1] *= correction;
    }
    __syncwarp();
#pragma unroll
    for (int s = 0; s < kKeys / 4; ++s) {
      const double a = ps[r * smem_row(kKeys) + 4 * s + c];
#pragma unroll
      for (int d = 0; d < HD / 8; ++d)
        mma(o[d], a, vs[(4 * s + c) * smem_row(HD) + 8 * d + r]);
    }
    __syncwarp();  // the next tile's weights overwrite ps
  }
  if (t >= n_q) return;
  float* out = reinterpret_cast<float*>(dst.data + head * dst.nb[1] + t * dst.nb[2]);
#pragma unroll
  for (int d = 0; d < HD / 8; ++d)
#pragma unroll
    for (int e = 0; e < 2; ++e)
      out[8 * d + 2 * c + e] = static_cast<float>(o[d][e] / l);
}

template <int HD>
void launch_hd(const DevTensor& dst, const DevTensor& q, const DevTensor& k, const DevTensor& v,
               Dynamic n_kv, const int32_t* pos, float scale, ErrorFlag err, int32_t node,
               cudaStream_t s) {
  // Above 48 KB a kernel must ask; per device, so on every launch (a failure shows as the
  // launch's error).
  cudaFuncSetAttribute(attention_prefill<HD>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                       static_cast<int>(shared_bytes<HD>()));
  const dim3 grid(static_cast<unsigned>((q.ne[2] + kQueries - 1) / kQueries),
                  static_cast<unsigned>(q.ne[1]));
  launch(attention_prefill<HD>, grid, kThreads, shared_bytes<HD>(), s, dst, q, k, v, n_kv, pos,
         scale, err, node);
}

bool aligned16(const DevTensor& t) {
  return reinterpret_cast<uintptr_t>(t.data) % 16 == 0 && t.nb[1] % 16 == 0 && t.nb[2] % 16 == 0;
}

}  // namespace

bool launch_attention_prefill(const DevTensor& dst, const DevTensor& q, const DevTensor& k,
                              const DevTensor& v, Dynamic n_kv, const int32_t* pos, float scale,
                              ErrorFlag err, int32_t node, cudaStream_t s) {
  const auto kv_type = [](const DevTensor& t) {
    return t.type == BITNET_TYPE_F16 || t.type == BITNET_TYPE_F32;
  };
  if (!kv_type(k) || !kv_type(v) || !aligned16(k) || !aligned16(v)) return false;
  switch (q.ne[0]) {
    case 64:
      launch_hd<64>(dst, q, k, v, n_kv, pos, scale, err, node, s);
      return true;
    case 128:
      launch_hd<128>(dst, q, k, v, n_kv, pos, scale, err, node, s);
      return true;
    default:
      return false;
  }
}

}  // namespace bitnet::cuda

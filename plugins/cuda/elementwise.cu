// Row-wise ops (ADD, MUL, SCALE, GLU, CPY, RMS_NORM) and GET_ROWS: one block per row of the
// output, threads across the row, every tensor addressed through its strides.
#include <algorithm>

#include "dequant.cuh"
#include "kernels.hpp"
#include "launch.cuh"
#include "rows.cuh"

namespace bitnet::cuda {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ const float* broadcast_row(const DevTensor& b, const DevTensor& a,
                                                      int64_t r) {
  const int64_t i1 = r % a.ne[1], i2 = (r / a.ne[1]) % a.ne[2], i3 = r / (a.ne[1] * a.ne[2]);
  return reinterpret_cast<const float*>(b.data + (i1 % b.ne[1]) * b.nb[1] +
                                        (i2 % b.ne[2]) * b.nb[2] + (i3 % b.ne[3]) * b.nb[3]);
}

unsigned rows(const DevTensor& t) {
  return static_cast<unsigned>(t.ne[1] * t.ne[2] * t.ne[3]);
}

// Element-wise ops: a row per blockIdx.x and the row spread over blockIdx.y, so a single
// decode row still fills many SMs.
dim3 element_grid(const DevTensor& t) {
  const int64_t spans = (t.ne[0] + kThreads - 1) / kThreads;
  return dim3(rows(t), static_cast<unsigned>(spans < 65535 ? spans : 65535));
}

__device__ __forceinline__ int64_t first() {
  return static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x;
}

__device__ __forceinline__ int64_t stride() {
  return static_cast<int64_t>(gridDim.y) * blockDim.x;
}

__global__ void binary(DevTensor dst, DevTensor a, DevTensor b, bool add) {
  grid_wait();
  const float* x = reinterpret_cast<const float*>(row_of(a, blockIdx.x));
  const float* y = broadcast_row(b, a, blockIdx.x);
  float* out = reinterpret_cast<float*>(row_of(dst, blockIdx.x));
  for (int64_t i = first(); i < dst.ne[0]; i += stride()) {
    const float yi = y[i % b.ne[0]];
    out[i] = add ? x[i] + yi : x[i] * yi;
  }
}

__global__ void scale(DevTensor dst, DevTensor a, float s) {
  grid_wait();
  const float* x = reinterpret_cast<const float*>(row_of(a, blockIdx.x));
  float* out = reinterpret_cast<float*>(row_of(dst, blockIdx.x));
  for (int64_t i = first(); i < dst.ne[0]; i += stride())
    out[i] = x[i] * s;
}

// Four elements a thread in 16-byte loads where the rows allow: with one element a thread, a
// 512-row prefill GLU ran 16 waves of blocks that each waited one round trip for 8 bytes, and
// took 85 us for 48 MB (15% of a 1B Q4_0 prefill).
__global__ void glu(DevTensor dst, DevTensor g, DevTensor u, bool silu) {
  grid_wait();
  const float* gr = reinterpret_cast<const float*>(row_of(g, blockIdx.x));
  const float* ur = reinterpret_cast<const float*>(row_of(u, blockIdx.x));
  float* out = reinterpret_cast<float*>(row_of(dst, blockIdx.x));
  const int64_t n = dst.ne[0];
  if (n % 4 == 0 && aligned16(gr) && aligned16(ur) && aligned16(out)) {
    for (int64_t i = first(); i < n / 4; i += stride()) {
      const float4 x = reinterpret_cast<const float4*>(gr)[i],
                   y = reinterpret_cast<const float4*>(ur)[i];
      reinterpret_cast<float4*>(out)[i] =
          make_float4(glu_element(x.x, y.x, silu), glu_element(x.y, y.y, silu),
                      glu_element(x.z, y.z, silu), glu_element(x.w, y.w, silu));
    }
    return;
  }
  for (int64_t i = first(); i < n; i += stride())
    out[i] = glu_element(gr[i], ur[i], silu);
}

__global__ void cpy(DevTensor dst, Dynamic address, DevTensor src) {
  grid_wait();
  const float* x = reinterpret_cast<const float*>(row_of(src, blockIdx.x));
  dst.data = reinterpret_cast<char*>(address.values[address.slot]);
  char* out = row_of(dst, blockIdx.x);
  for (int64_t i = first(); i < dst.ne[0]; i += stride())
    store_element(out, dst.type, i, x[i]);
}

constexpr int kNormThreads = 1024;  // the most; a row takes as many as hold it in registers
constexpr int kNormHeld = 8;        // elements a thread keeps in registers between the passes

// The block's warps' values combined by warp 0; `partial` holds 33 floats.
__device__ __forceinline__ float block_reduce(float v, bool max, float* partial) {
  v = max ? warp_max(v) : warp_sum(v);
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
  __syncthreads();
  if (threadIdx.x < 32) {
    float t = threadIdx.x < blockDim.x / 32 ? partial[threadIdx.x] : 0.0f;
    t = max ? warp_max(t) : warp_sum(t);
    if (threadIdx.x == 0) partial[32] = t;
  }
  __syncthreads();
  const float total = partial[32];
  __syncthreads();
  return total;
}

// With `add`, src is first written as add_a + add_b (a residual ADD fused in front).
// One block per row; rows of up to kNormThreads * kNormHeld elements stay in registers from
// the sum of squares to the quantisation (a decode row is latency-bound, not bandwidth-bound).
// With q, the row is then quantised as quantize_rows in ternary_matmul.cu does, from the very
// floats written, so fusing changes no result.
__global__ void __launch_bounds__(kNormThreads)
    rms_norm(DevTensor dst, DevTensor src, DevTensor add_a, DevTensor add_b, bool add,
             const float* weight, float eps, int8_t* q, float* amax_out) {
  const int64_t n = dst.ne[0], threads = blockDim.x, held_end = threads * kNormHeld;
  if (weight && threadIdx.x * 32 < n) prefetch_l2(weight + threadIdx.x * 32);
  grid_wait();
  __shared__ float partial[33];
  float* x = reinterpret_cast<float*>(row_of(src, blockIdx.x));
  const float* a = add ? reinterpret_cast<const float*>(row_of(add_a, blockIdx.x)) : nullptr;
  const float* b = add ? reinterpret_cast<const float*>(row_of(add_b, blockIdx.x)) : nullptr;
  float* out = reinterpret_cast<float*>(row_of(dst, blockIdx.x));
  // Every load comes before the first store: the rows may alias as far as the compiler knows,
  // so a load after a store would wait for that store to land, one round trip per element.
  float v[kNormHeld], w[kNormHeld];
#pragma unroll
  for (int j = 0; j < kNormHeld; ++j) {
    const int64_t i = threadIdx.x + j * threads;
    v[j] = 0.0f;
    w[j] = 1.0f;
    if (i < n) {
      v[j] = add ? a[i] + b[i] : x[i];
      if (weight) w[j] = weight[i];
    }
  }
  float sum = 0.0f;
#pragma unroll
  for (int j = 0; j < kNormHeld; ++j) {
    const int64_t i = threadIdx.x + j * threads;
    if (add && i < n) x[i] = v[j];
    sum = fmaf(v[j], v[j], sum);
  }
  for (int64_t i = held_end + threadIdx.x; i < n; i += threads) {
    if (add) x[i] = a[i] + b[i];
    sum = fmaf(x[i], x[i], sum);
  }
  const float total = block_reduce(sum, false, partial);
  const float inv =
      static_cast<float>(1.0 / sqrt(static_cast<double>(total) / static_cast<double>(n) + eps));
  float amax = 1e-5f;
#pragma unroll
  for (int j = 0; j < kNormHeld; ++j) {
    const int64_t i = threadIdx.x + j * threads;
    if (i >= n) break;
    v[j] = v[j] * inv * w[j];
    out[i] = v[j];
    amax = fmaxf(amax, fabsf(v[j]));
  }
  for (int64_t i = held_end + threadIdx.x; i < n; i += threads) {
    out[i] = x[i] * inv * (weight ? weight[i] : 1.0f);
    amax = fmaxf(amax, fabsf(out[i]));
  }
  if (!q) return;
  amax = block_reduce(amax, true, partial);
  const float iscale = __fdiv_rn(127.0f, amax);
  int8_t* qr = q + blockIdx.x * n;
#pragma unroll
  for (int j = 0; j < kNormHeld; ++j) {
    const int64_t i = threadIdx.x + j * threads;
    if (i >= n) break;
    qr[i] = static_cast<int8_t>(min(max(__float2int_rn(__fmul_rn(v[j], iscale)), -128), 127));
  }
  for (int64_t i = held_end + threadIdx.x; i < n; i += threads)
    qr[i] = static_cast<int8_t>(min(max(__float2int_rn(__fmul_rn(out[i], iscale)), -128), 127));
  if (threadIdx.x == 0) amax_out[blockIdx.x] = amax;
}

template <int T>
__global__ void get_rows(DevTensor dst, DevTensor table, const int32_t* ids, ErrorFlag err,
                         int32_t node) {
  grid_wait();
  const int32_t id = ids[blockIdx.x];
  float* out = reinterpret_cast<float*>(dst.data + blockIdx.x * dst.nb[1]);
  if (id < 0 || id >= table.ne[1]) {
    if (threadIdx.x == 0) *err = node + 1;
    return;
  }
  const uint8_t* row = reinterpret_cast<const uint8_t*>(table.data + id * table.nb[1]);
  const float i2s = T == BITNET_TYPE_I2_S
                        ? *reinterpret_cast<const float*>(table.data + table.ne[1] * table.nb[1])
                        : 0.0f;
  const int64_t k = table.ne[0], chunks = k / 8;
  for (int64_t c = threadIdx.x; c < chunks; c += blockDim.x)
    load8<T>(row, c * 8, i2s, out + c * 8);
  if constexpr (T == BITNET_TYPE_F32 || T == BITNET_TYPE_F16 || T == BITNET_TYPE_BF16)
    for (int64_t i = chunks * 8 + threadIdx.x; i < k; i += blockDim.x)
      out[i] = load1<T>(row, i);
}

}  // namespace

void launch_binary(const DevTensor& dst, const DevTensor& a, const DevTensor& b, bool add,
                   cudaStream_t s) {
  launch(binary, element_grid(dst), kThreads, s, dst, a, b, add);
}

void launch_scale(const DevTensor& dst, const DevTensor& a, float factor, cudaStream_t s) {
  launch(scale, element_grid(dst), kThreads, s, dst, a, factor);
}

void launch_glu(const DevTensor& dst, const DevTensor& g, const DevTensor& u, bool silu,
                cudaStream_t s) {
  // Spans for four elements a thread; rows that cannot take 16-byte loads loop over the rest.
  const int64_t spans = (dst.ne[0] + 4 * kThreads - 1) / (4 * kThreads);
  launch(glu, dim3(rows(dst), static_cast<unsigned>(spans < 65535 ? spans : 65535)), kThreads, s,
         dst, g, u, silu);
}

void launch_cpy(const DevTensor& dst, Dynamic dst_address, const DevTensor& src, cudaStream_t s) {
  launch(cpy, element_grid(dst), kThreads, s, dst, dst_address, src);
}

void launch_rms_norm(const DevTensor& dst, const DevTensor& x, const DevTensor* add_a,
                     const DevTensor* add_b, const float* weight, float eps, int8_t* q, float* amax,
                     cudaStream_t s) {
  const bool add = add_a && add_b;
  // Threads enough for kNormHeld elements each: fewer warps to combine on short rows.
  const int64_t per = (dst.ne[0] + kNormHeld - 1) / kNormHeld;
  const auto threads =
      static_cast<unsigned>(std::clamp<int64_t>((per + 31) / 32 * 32, 64, kNormThreads));
  launch(rms_norm, rows(dst), threads, s, dst, x, add ? *add_a : x, add ? *add_b : x, add, weight,
         eps, q, amax);
}

int max_held_norm_row() {
  return kNormThreads * kNormHeld;
}

void launch_get_rows(const DevTensor& dst, const DevTensor& table, const int32_t* ids,
                     ErrorFlag err, int32_t node, cudaStream_t s) {
  dispatch_weight_type(table.type, [&]<int T>() {
    launch(get_rows<T>, static_cast<unsigned>(dst.ne[1]), kThreads, s, dst, table, ids, err, node);
  });
}

}  // namespace bitnet::cuda

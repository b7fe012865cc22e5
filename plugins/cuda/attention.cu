// ROPE and ATTENTION. RoPE angles are worked out in double as the reference does (positions
// reach thousands of radians, where float loses the rotation). Attention is one block of 16
// warps per (head, query): each warp runs an online softmax over every 16th key, a lane
// holding head_dim/32 of the accumulator, and the warps' partial sums are merged at the end.
#include "dequant.cuh"
#include "kernels.hpp"

namespace bitnet::cuda {
namespace {

constexpr int kWarps = 16;
constexpr int kMaxPerLane = 8;  // head_dim up to 256

__global__ void rope(DevTensor dst, DevTensor x, const int32_t* pos, int dims, float base,
                     bool neox) {
  const int64_t head = blockIdx.x, t = blockIdx.y;
  const float* in = reinterpret_cast<const float*>(x.data + head * x.nb[1] + t * x.nb[2]);
  float* out = reinterpret_cast<float*>(dst.data + head * dst.nb[1] + t * dst.nb[2]);
  const int half = dims / 2;
  for (int i = threadIdx.x; i < half; i += blockDim.x) {
    const int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
    const double theta =
        pos[t] * pow(static_cast<double>(base), -2.0 * static_cast<double>(i) / dims);
    double s, c;
    sincos(theta, &s, &c);
    const float xa = in[a], xb = in[b];
    out[a] = static_cast<float>(xa * c - xb * s);
    out[b] = static_cast<float>(xa * s + xb * c);
  }
  for (int64_t i = dims + threadIdx.x; i < x.ne[0]; i += blockDim.x)
    out[i] = in[i];
}

__device__ __forceinline__ float kv_at(const char* row, int32_t type, int i) {
  return type == BITNET_TYPE_F16 ? __half2float(reinterpret_cast<const __half*>(row)[i])
                                 : reinterpret_cast<const float*>(row)[i];
}

__global__ void __launch_bounds__(32 * kWarps)
    attention(DevTensor dst, DevTensor q, DevTensor k, DevTensor v, Dynamic n_keys,
              const int32_t* pos, float scale, ErrorFlag err, int32_t node) {
  __shared__ float merge_m[kWarps], merge_l[kWarps];
  __shared__ float merge_acc[kWarps][32 * kMaxPerLane];
  const int head = blockIdx.x, t = blockIdx.y, lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int hd = static_cast<int>(q.ne[0]);
  const int64_t n_kv = n_keys.values[n_keys.slot], kvh = head / (q.ne[1] / k.ne[1]);
  const int32_t p = pos[t];
  float* out = reinterpret_cast<float*>(dst.data + head * dst.nb[1] + t * dst.nb[2]);
  if (p < 0 || p >= n_kv) {
    if (threadIdx.x == 0) *err = node + 1;
    return;
  }
  const float* qr = reinterpret_cast<const float*>(q.data + head * q.nb[1] + t * q.nb[2]);
  float qv[kMaxPerLane], acc[kMaxPerLane];
#pragma unroll
  for (int j = 0; j < kMaxPerLane; ++j) {
    const int i = lane + 32 * j;
    qv[j] = i < hd ? qr[i] : 0.0f;
    acc[j] = 0.0f;
  }
  float m = -INFINITY, l = 0.0f;
  for (int64_t key = warp; key <= p; key += kWarps) {
    const char* kr = k.data + kvh * k.nb[1] + key * k.nb[2];
    float s = 0.0f;
#pragma unroll
    for (int j = 0; j < kMaxPerLane; ++j) {
      const int i = lane + 32 * j;
      if (i < hd) s = fmaf(qv[j], kv_at(kr, k.type, i), s);
    }
    s = warp_sum(s) * scale;
    const float m_new = fmaxf(m, s);
    const float correction = expf(m - m_new), w = expf(s - m_new);
    l = l * correction + w;
    const char* vr = v.data + kvh * v.nb[1] + key * v.nb[2];
#pragma unroll
    for (int j = 0; j < kMaxPerLane; ++j) {
      const int i = lane + 32 * j;
      if (i < hd) acc[j] = acc[j] * correction + w * kv_at(vr, v.type, i);
    }
    m = m_new;
  }
  if (lane == 0) {
    merge_m[warp] = m;
    merge_l[warp] = l;
  }
#pragma unroll
  for (int j = 0; j < kMaxPerLane; ++j)
    merge_acc[warp][lane + 32 * j] = acc[j];
  __syncthreads();
  if (warp != 0) return;
  float m_all = -INFINITY;
#pragma unroll
  for (int w = 0; w < kWarps; ++w)
    m_all = fmaxf(m_all, merge_m[w]);
  float l_all = 0.0f, f[kWarps];
#pragma unroll
  for (int w = 0; w < kWarps; ++w) {
    f[w] = merge_l[w] > 0.0f ? expf(merge_m[w] - m_all) : 0.0f;
    l_all += merge_l[w] * f[w];
  }
#pragma unroll
  for (int j = 0; j < kMaxPerLane; ++j) {
    const int i = lane + 32 * j;
    if (i >= hd) continue;
    float sum = 0.0f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w)
      sum += merge_acc[w][i] * f[w];
    out[i] = sum / l_all;
  }
}

}  // namespace

void launch_rope(const DevTensor& dst, const DevTensor& x, const int32_t* pos, int dims, float base,
                 bool neox, cudaStream_t s) {
  const dim3 grid(static_cast<unsigned>(x.ne[1]), static_cast<unsigned>(x.ne[2]));
  rope<<<grid, 64, 0, s>>>(dst, x, pos, dims, base, neox);
}

void launch_attention(const DevTensor& dst, const DevTensor& q, const DevTensor& k,
                      const DevTensor& v, Dynamic n_kv, const int32_t* pos, float scale,
                      ErrorFlag err, int32_t node, cudaStream_t s) {
  const dim3 grid(static_cast<unsigned>(q.ne[1]), static_cast<unsigned>(q.ne[2]));
  attention<<<grid, 32 * kWarps, 0, s>>>(dst, q, k, v, n_kv, pos, scale, err, node);
}

int max_attention_head_dim() {
  return 32 * kMaxPerLane;
}

}  // namespace bitnet::cuda

// ROPE, alone or in one launch with the nodes around it in a layer: the ROPEs of q and k, the
// CPY of the rotated k into the KV cache (done from the rotated values as they are written)
// and the CPY of v.
#include "dequant.cuh"
#include "kernels.hpp"
#include "launch.cuh"
#include "rows.cuh"

namespace bitnet::cuda {
namespace {

constexpr int kThreads = 64;

// A ROPE's rows are its heads x tokens, a CPY's its destination's rows.
__host__ __device__ __forceinline__ int64_t task_rows(const RowTask& t) {
  return t.rope ? t.src.ne[1] * t.src.ne[2] : t.dst.ne[1] * t.dst.ne[2] * t.dst.ne[3];
}

// Row r of a ROPE's [head_dim, heads, tokens] input; with t.store, the rotated row is also
// written where the CPY of the ROPE's output puts row r.
__device__ void rope_row(const RowTask& t, int64_t r) {
  const int64_t head = r % t.src.ne[1], token = r / t.src.ne[1];
  const float* in =
      reinterpret_cast<const float*>(t.src.data + head * t.src.nb[1] + token * t.src.nb[2]);
  float* out = reinterpret_cast<float*>(t.dst.data + head * t.dst.nb[1] + token * t.dst.nb[2]);
  DevTensor cache = t.store_dst;
  if (t.store) cache.data = address_of(t.store_address);
  char* stored = t.store ? row_of(cache, r) : nullptr;
  const int half = t.dims / 2;
  for (int i = threadIdx.x; i < half; i += blockDim.x) {
    const int a = t.neox ? i : 2 * i, b = t.neox ? i + half : 2 * i + 1;
    const float2 y = rotate_pair(in[a], in[b], t.pos[token], i, t.dims, t.base);
    const float ya = y.x, yb = y.y;
    out[a] = ya;
    out[b] = yb;
    if (stored) {
      store_element(stored, cache.type, a, ya);
      store_element(stored, cache.type, b, yb);
    }
  }
  for (int64_t i = t.dims + threadIdx.x; i < t.src.ne[0]; i += blockDim.x) {
    const float v = in[i];
    out[i] = v;
    if (stored) store_element(stored, cache.type, i, v);
  }
}

__device__ void cpy_row(const RowTask& t, int64_t r) {
  DevTensor dst = t.dst;
  dst.data = address_of(t.address);
  const float* x = reinterpret_cast<const float*>(row_of(t.src, r));
  char* out = row_of(dst, r);
  for (int64_t i = threadIdx.x; i < dst.ne[0]; i += blockDim.x)
    store_element(out, dst.type, i, x[i]);
}

__global__ void __launch_bounds__(kThreads) row_tasks(RowTasks g) {
  grid_wait();
  int64_t r = blockIdx.x;
  int i = 0;
  while (i + 1 < g.count && r >= task_rows(g.task[i])) {
    r -= task_rows(g.task[i]);
    ++i;
  }
  if (g.task[i].rope)
    rope_row(g.task[i], r);
  else
    cpy_row(g.task[i], r);
}

}  // namespace

void launch_row_tasks(const RowTasks& g, cudaStream_t s) {
  int64_t rows = 0;
  for (int i = 0; i < g.count; ++i)
    rows += task_rows(g.task[i]);
  launch(row_tasks, static_cast<unsigned>(rows), kThreads, s, g);
}

}  // namespace bitnet::cuda

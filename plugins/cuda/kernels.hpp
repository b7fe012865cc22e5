// The kernels' launchers: plain host functions over device pointers, so the backend's C++
// (built by the host compiler) never sees CUDA syntax. Every launcher enqueues on `stream` and
// returns at once; errors surface from cudaGetLastError in the caller.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace bitnet::cuda {

// A tensor as kernels see it: its first byte on the device and ggml's ne/nb.
struct DevTensor {
  char* data = nullptr;
  int32_t type = 0;
  int64_t ne[4] = {1, 1, 1, 1};
  size_t nb[4] = {0, 0, 0, 0};
};

// Values that change from one decode step to the next while the graph keeps its shape (the
// KV-cache row a CPY writes, the number of keys ATTENTION sees), read by kernels from device
// memory so a captured graph can be replayed with new ones: values[slot].
struct Dynamic {
  const int64_t* values;
  int32_t slot;
};

// Written by kernels that meet bad input they cannot refuse earlier (an id or a position is
// only known on the device): the failing node's index + 1; 0 means none.
using ErrorFlag = int32_t*;

void launch_binary(const DevTensor& dst, const DevTensor& a, const DevTensor& b, bool add,
                   cudaStream_t s);
void launch_scale(const DevTensor& dst, const DevTensor& a, float scale, cudaStream_t s);
void launch_glu(const DevTensor& dst, const DevTensor& g, const DevTensor& u, bool silu,
                cudaStream_t s);
// dst.data is ignored: the address comes from `dst_address`.
void launch_cpy(const DevTensor& dst, Dynamic dst_address, const DevTensor& src, cudaStream_t s);
// With `q`, also quantises each output row for a ternary matmul (as launch_quantize_rows).
// With add_a and add_b, first writes x = add_a + add_b (a residual ADD whose sum it normalises).
// The longest row launch_rms_norm holds in registers (then it reads its input before writing).
int max_held_norm_row();
void launch_rms_norm(const DevTensor& dst, const DevTensor& x, const DevTensor* add_a,
                     const DevTensor* add_b, const float* weight, float eps, int8_t* q, float* amax,
                     cudaStream_t s);
// ROPE and CPY nodes in one launch, a block per row. A ROPE task (rope) rotates src into dst
// by `pos`; with `store` its output is also written as a CPY of it would write it, into
// store_dst at store_address. A CPY task copies src into dst at `address` (dst.data ignored).
struct RowTask {
  DevTensor dst, src;
  bool rope = false;
  const int32_t* pos = nullptr;
  int dims = 0;
  float base = 0;
  bool neox = false;
  Dynamic address{};
  bool store = false;
  DevTensor store_dst;
  Dynamic store_address{};
};
constexpr int kMaxRowTasks = 4;
struct RowTasks {
  int count = 0;
  RowTask task[kMaxRowTasks];
};
void launch_row_tasks(const RowTasks& tasks, cudaStream_t s);
// k.ne[2] is ignored: the number of keys comes from `n_kv`.
void launch_attention(const DevTensor& dst, const DevTensor& q, const DevTensor& k,
                      const DevTensor& v, Dynamic n_kv, const int32_t* pos, float scale,
                      ErrorFlag err, int32_t node, cudaStream_t s);
// launch_attention's kernel for many queries (attention_prefill.cu); false, launching nothing,
// where it does not apply (a head_dim other than 64 or 128, K or V not F16/F32 in 16-byte rows).
bool launch_attention_prefill(const DevTensor& dst, const DevTensor& q, const DevTensor& k,
                              const DevTensor& v, Dynamic n_kv, const int32_t* pos, float scale,
                              ErrorFlag err, int32_t node, cudaStream_t s);
// The largest head_dim launch_attention takes.
int max_attention_head_dim();

void launch_get_rows(const DevTensor& dst, const DevTensor& table, const int32_t* ids,
                     ErrorFlag err, int32_t node, cudaStream_t s);

// One 2-D slice of MUL_MAT: dst[n][m] = sum_k w[m][k] * x[n][k], rows at the given strides
// (bytes). `i2s_scale` points at an I2_S tensor's scale (unused for other types).
struct MatmulArgs {
  int32_t type;
  const char* w;
  size_t w_stride;
  const float* i2s_scale;
  const float* x;
  size_t x_stride;
  float* dst;
  size_t dst_stride;
  int64_t m, n, k;
};
void launch_float_matmul(const MatmulArgs& a, cudaStream_t s);

// The ROPE and the CPY into the KV cache that follow a set's matmul in a layer, done by the
// matvec as it stores the set's rows, which are heads of head_dim: rope_dst gets the rotated
// rows, and with `store` the CPY's destination (its address from store_address) gets them too,
// or the set's own output without a ROPE. With `neox` the rows are taken in the order that puts
// each rotated pair (i, i + dims/2) in one warp (set_row).
struct RowEpilogue {
  float* rope_dst = nullptr;  // null: no ROPE
  const int32_t* pos = nullptr;
  int head_dim = 0, dims = 0;
  float base = 0;
  bool neox = false;
  bool store = false;
  DevTensor store_dst;
  Dynamic store_address{};
};
// Batch-1 MUL_MAT over up to kMaxRowSets weight matrices that share one activation row (q, k
// and v of a layer) in one launch; with glu_dst, sets 0 and 1 are a gate/up pair of equal m
// and each row also gets glu_dst[m] = act(gate) * up, as launch_glu computes it. Ternary (I2_S)
// weights read the int8 row `q` and its `amax`, the others the F32 row `x`.
struct RowSet {
  const char* w;
  size_t w_stride, row_bytes;
  const float* i2s_scale;
  float* dst;
  int64_t m;
  RowEpilogue epi;
};
constexpr int kMaxRowSets = 3;
// The RMS_NORM whose output is the activation row, computed by every block of the matvec from
// its input row (`x` and `q` are then unused); block 0 also writes the norm's output.
struct NormIn {
  const float* x = nullptr;  // null: no norm
  const float* weight = nullptr;
  float eps = 0;
  float* out = nullptr;
};
struct DecodeMatvec {
  int32_t type;
  int64_t k;
  int sets;
  RowSet set[kMaxRowSets];
  const float* x;
  const int8_t* q;
  const float* amax;
  float* glu_dst;
  bool glu_silu;
  bool prefetch;  // fetch the weights into L2 before waiting for the previous kernel
  NormIn norm;
  // The residual ADD after a single set: resid_dst[m] = resid[m] + set[0].dst[m].
  const float* resid = nullptr;
  float* resid_dst = nullptr;
  // Some set has a RowEpilogue: a warp takes an even number of rows, so a ROPE's pairs meet.
  bool even_rows = false;
  // Where set 0's rows are also written, in host memory (HostMirror), when not null.
  float* mirror = nullptr;
};
// The weight types launch_decode_matvec takes (TQ2_0 goes through launch_ternary_matmul).
bool decode_matvec_type(int32_t type);
// Shared memory the kernel needs for a row of k (with `norm`: also the normalised row); runs
// needing more than decode_matvec_shared_limit() are not formed.
size_t decode_matvec_shared(int32_t type, int64_t k, bool norm);
size_t decode_matvec_shared_limit();
void launch_decode_matvec(const DecodeMatvec& a, cudaStream_t s);

// Ternary MUL_MAT: activations quantised to int8 rows of k bytes (`q`, with max|x| per row in
// `amax`) by launch_quantize_rows, then integer dot products.
void launch_quantize_rows(const float* x, size_t x_stride, int64_t n, int64_t k, int8_t* q,
                          float* amax, cudaStream_t s);
void launch_ternary_matmul(const MatmulArgs& a, const int8_t* q, const float* amax, cudaStream_t s);

// What F16 rounding loses is at most 2^-11 of the value: scaled back up, it is as far from
// F16's subnormals (where its precision would go) as the value is.
constexpr float kHalfLoScale = 2048.0f;

// The cuBLAS prefill path's operands (prefill_convert.cu). Weight rows of `stride` bytes become
// dense [m][k]: I2_S as int8 codes -1/0/1 (k a multiple of 128), other types as F16 (`half`)
// or F32 (k a multiple of 8). Activation rows become F16 [n][k] in `hi` and, where `lo` is not
// null, what F16 rounding lost, times kHalfLoScale, in `lo`: hi + lo / kHalfLoScale is each
// activation to 2^-22 of itself where F16 holds it as a normal number, above 65504 infinite
// (outputs 16-byte aligned). Int32 sums c[n][mc] of I2_S weights
// become F32 outputs, scaled as launch_ternary_matmul scales them.
void launch_i2s_to_int8(const char* w, size_t stride, int64_t m, int64_t k, int8_t* out,
                        cudaStream_t s);
void launch_weights_to(int32_t type, bool half, const char* w, size_t stride, int64_t m, int64_t k,
                       void* out, cudaStream_t s);
void launch_rows_to_half(const float* x, size_t stride, int64_t n, int64_t k, void* hi, void* lo,
                         cudaStream_t s);
void launch_scale_ternary(const int32_t* c, int64_t mc, int64_t n, const float* scale,
                          const float* amax, float* dst, size_t dst_stride, cudaStream_t s);

}  // namespace bitnet::cuda

#include "matmul.hpp"

#include <bitnet/sdk/backend.hpp>
#include <bitnet/sdk/plugin.hpp>
#include <bitnet/sdk/types.hpp>

#include <algorithm>

#include <immintrin.h>

#include "../cpu-generic/tensor_access.hpp"
#include "../cpu-generic/weights.hpp"
#include "activations.hpp"
#if BITNET_CPU_AVX512
#include "block_vnni.hpp"
#include "decode_vnni.hpp"
#include "ternary_prefill.hpp"
#endif

#pragma GCC target("avx2,fma,f16c")

#include "block_dot.hpp"
#include "float_dot.hpp"
#include "ternary_dot.hpp"

namespace bitnet::cpu_avx2 {
namespace {

using cpu_generic::f32_row;
constexpr int kMaxRows = 4;  // activation rows per pass over a weight row

struct Job {
  const bitnet_tensor* dst;
  const bitnet_tensor* w;
  const bitnet_tensor* x;
  int64_t i2, i3;
  const std::byte* w_rows;  // row 0 of the weight matrix this batch multiplies
  BlockActs blocks;
  RowActs rows;
  float i2s_scale = 0;
};

template <int R>
void dot_rows(const Job& j, const std::byte* wr, int64_t n0, float* out) {
  const int64_t k = j.w->ne[0];
  switch (j.w->type) {
    case BITNET_TYPE_Q8_0:
      return dot_q8_q4<BITNET_TYPE_Q8_0, R>(wr, k, j.blocks, n0, out);
    case BITNET_TYPE_Q4_0:
      return dot_q8_q4<BITNET_TYPE_Q4_0, R>(wr, k, j.blocks, n0, out);
    case BITNET_TYPE_Q4_K:
      return dot_q4_k<R>(wr, k, j.blocks, n0, out);
    case BITNET_TYPE_Q6_K:
      return dot_q6_k<R>(wr, k, j.blocks, n0, out);
    case BITNET_TYPE_I2_S:
      return dot_i2_s<R>(wr, k, j.i2s_scale, j.rows, n0, out);
    case BITNET_TYPE_TQ2_0:
      return dot_tq2_0<R>(wr, k, j.rows, n0, out);
    default: {
      const float* x[R];
      for (int r = 0; r < R; ++r)
        x[r] = f32_row(*j.x, n0 + r, j.i2, j.i3);
      if (j.w->type == BITNET_TYPE_F16) return dot_float<BITNET_TYPE_F16, R>(wr, k, x, out);
      if (j.w->type == BITNET_TYPE_BF16) return dot_float<BITNET_TYPE_BF16, R>(wr, k, x, out);
      return dot_float<BITNET_TYPE_F32, R>(wr, k, x, out);
    }
  }
}

#if BITNET_CPU_AVX512
// Prefill of Q8_0, Q4_0, Q4_K and Q6_K runs on the VNNI tiles of block_vnni, from 5 activation
// rows: the tiles copy each weight once per matmul, which few rows do not repay (a 4-layer
// 1B-shaped Q4_0 model, 2 threads: 2 rows 63 against 73 tok/s on the row kernels, 4 even, 6 167
// against 111).
bool block_vnni_tiles(const bitnet_tensor& w, const bitnet_tensor& x) {
  return (w.type == BITNET_TYPE_Q8_0 || w.type == BITNET_TYPE_Q4_0 || w.type == BITNET_TYPE_Q4_K ||
          w.type == BITNET_TYPE_Q6_K) &&
         x.ne[1] > 4;
}

// One activation row: cpu-avx512's decode row kernels over the batch's weight rows.
void run_decode(const Job& j, DecodeActs& acts, size_t grain) {
  const bitnet_tensor& w = *j.w;
  prepare_decode_vnni(w.type, j.rows, j.blocks, acts);
  const float* x = f32_row(*j.x, 0, j.i2, j.i3);
  float* out = f32_row(*j.dst, 0, j.i2, j.i3);
  sdk::plugin_host().parallel_for(0, static_cast<size_t>(w.ne[1]), grain, [&](size_t b, size_t e) {
    decode_vnni(w.type, j.w_rows, w.nb[1], w.ne[0], j.i2s_scale, x, acts, static_cast<int64_t>(b),
                static_cast<int64_t>(e), out + b);
  });
}
#endif

void run_rows(const Job& j, int64_t m_begin, int64_t m_end) {
#if BITNET_CPU_AVX512
  if (block_vnni_tiles(*j.w, *j.x))
    return mul_mat_block_vnni(j.w->type, j.w_rows, j.w->nb[1], j.blocks, j.x->ne[1],
                              f32_row(*j.dst, 0, j.i2, j.i3), j.dst->nb[1], m_begin, m_end);
#endif
  const int64_t n_count = j.x->ne[1];
  float out[kMaxRows];
  int64_t m = m_begin;
  for (; m < m_end; ++m) {
    const std::byte* wr = j.w_rows + m * static_cast<int64_t>(j.w->nb[1]);
    for (int64_t n = 0; n < n_count; n += kMaxRows) {
      const int64_t r = std::min<int64_t>(kMaxRows, n_count - n);
      switch (r) {
        case 4:
          dot_rows<4>(j, wr, n, out);
          break;
        case 3:
          dot_rows<3>(j, wr, n, out);
          break;
        case 2:
          dot_rows<2>(j, wr, n, out);
          break;
        default:
          dot_rows<1>(j, wr, n, out);
      }
      for (int64_t i = 0; i < r; ++i)
        f32_row(*j.dst, n + i, j.i2, j.i3)[m] = out[i];
    }
  }
}

}  // namespace

void mul_mat(const bitnet_tensor& dst) {
#if BITNET_CPU_AVX512
  // Prefill only: one activation row (decode) takes run_decode's row kernels.
  const int32_t type = dst.src[0]->type;
  if ((type == BITNET_TYPE_I2_S || type == BITNET_TYPE_TQ2_0) && dst.src[1]->ne[1] > 1)
    return ternary_prefill(dst);
#endif
  Job j{&dst, dst.src[0], dst.src[1], 0, 0, nullptr, {}, {}, 0};
  const bitnet_tensor& w = *j.w;
  if (w.type == BITNET_TYPE_I2_S) j.i2s_scale = cpu_generic::i2s_scale(w);
  const size_t m_count = static_cast<size_t>(w.ne[1]);
  const size_t grain = cpu_generic::balanced_grain(m_count);
#if BITNET_CPU_AVX512
  DecodeActs decode;
#endif
  for (int64_t i3 = 0; i3 < j.x->ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < j.x->ne[2]; ++i2) {
      j.i2 = i2;
      j.i3 = i3;
      j.w_rows = cpu_generic::weight_batch(w, *j.x, i2, i3);
      switch (w.type) {
        case BITNET_TYPE_Q8_0:
        case BITNET_TYPE_Q4_0:
        case BITNET_TYPE_Q4_K:
        case BITNET_TYPE_Q6_K:
#if BITNET_CPU_AVX512
          if (block_vnni_tiles(w, *j.x)) {
            quantize_blocks_unsigned(*j.x, i2, i3, j.blocks);
            break;
          }
#endif
          quantize_blocks(*j.x, i2, i3, j.blocks);
          break;
        case BITNET_TYPE_I2_S:
        case BITNET_TYPE_TQ2_0:
          quantize_rows(*j.x, i2, i3, j.rows);
          break;
      }
#if BITNET_CPU_AVX512
      if (j.x->ne[1] == 1 && has_decode_vnni(w.type, w.ne[0], j.w_rows, w.nb[1])) {
        run_decode(j, decode, grain);
        continue;
      }
#endif
      sdk::plugin_host().parallel_for(0, m_count, grain, [&](size_t b, size_t e) {
        run_rows(j, static_cast<int64_t>(b), static_cast<int64_t>(e));
      });
    }
}

}  // namespace bitnet::cpu_avx2

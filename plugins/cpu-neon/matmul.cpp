#include "matmul.hpp"

#include <bitnet/sdk/backend.hpp>
#include <bitnet/sdk/half.hpp>
#include <bitnet/sdk/plugin.hpp>
#include <bitnet/sdk/types.hpp>

#include <arm_neon.h>

#include <algorithm>
#include <cstring>

#include "../cpu-generic/tensor_access.hpp"
#include "../cpu-generic/weights.hpp"
#include "activations.hpp"

namespace bitnet::cpu_neon {
namespace {

using cpu_generic::f32_row;
constexpr int kMaxRows = 4;  // activation rows per pass over a weight row

// ---- float weights -------------------------------------------------------------------------

template <int32_t T>
float32x4_t load_w4(const std::byte* w, int64_t i) {
  if constexpr (T == BITNET_TYPE_F16) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(reinterpret_cast<const uint16_t*>(w) + i)));
  } else if constexpr (T == BITNET_TYPE_BF16) {
    const uint16x4_t h = vld1_u16(reinterpret_cast<const uint16_t*>(w) + i);
    return vreinterpretq_f32_u32(vshll_n_u16(h, 16));
  } else {
    return vld1q_f32(reinterpret_cast<const float*>(w) + i);
  }
}

// One weight, for the elements past the last whole vector.
template <int32_t T>
float load_w1(const std::byte* w, int64_t i) {
  if constexpr (T == BITNET_TYPE_F32) {
    float f;
    std::memcpy(&f, w + 4 * i, 4);
    return f;
  } else {
    uint16_t h;
    std::memcpy(&h, w + 2 * i, 2);
    return T == BITNET_TYPE_F16 ? sdk::fp16_to_f32(h) : sdk::bf16_to_f32(h);
  }
}

// Four independent accumulators per activation row: one FMA chain would wait on its own
// latency instead of on memory.
template <int32_t T, int R>
void dot_float(const std::byte* w, int64_t k, const float* const* x, float* out) {
  constexpr int U = 4;
  float32x4_t acc[R][U];
  for (int r = 0; r < R; ++r)
    for (int u = 0; u < U; ++u)
      acc[r][u] = vdupq_n_f32(0);
  int64_t i = 0;
  for (; i + 4 * U <= k; i += 4 * U)
    for (int u = 0; u < U; ++u) {
      const float32x4_t wv = load_w4<T>(w, i + 4 * u);
      for (int r = 0; r < R; ++r)
        acc[r][u] = vfmaq_f32(acc[r][u], wv, vld1q_f32(x[r] + i + 4 * u));
    }
  for (; i + 4 <= k; i += 4) {
    const float32x4_t wv = load_w4<T>(w, i);
    for (int r = 0; r < R; ++r)
      acc[r][0] = vfmaq_f32(acc[r][0], wv, vld1q_f32(x[r] + i));
  }
  for (int r = 0; r < R; ++r) {
    out[r] =
        vaddvq_f32(vaddq_f32(vaddq_f32(acc[r][0], acc[r][1]), vaddq_f32(acc[r][2], acc[r][3])));
    for (int64_t j = i; j < k; ++j)
      out[r] += load_w1<T>(w, j) * x[r][j];
  }
}

// ---- driver --------------------------------------------------------------------------------

struct Job {
  const bitnet_tensor* dst;
  const bitnet_tensor* w;
  const bitnet_tensor* x;
  const QuantKernels* kernels;
  int64_t i2 = 0, i3 = 0;
  const std::byte* w_rows = nullptr;  // row 0 of the weight matrix this batch multiplies
  BlockView blocks{};
  RowView rows{};
  float i2s_scale = 0;
};

template <int R>
void dot_float_rows(const Job& j, const std::byte* wr, int64_t n0, float* out) {
  const int64_t k = j.w->ne[0];
  const float* x[R];
  for (int r = 0; r < R; ++r)
    x[r] = f32_row(*j.x, n0 + r, j.i2, j.i3);
  if (j.w->type == BITNET_TYPE_F16) return dot_float<BITNET_TYPE_F16, R>(wr, k, x, out);
  if (j.w->type == BITNET_TYPE_BF16) return dot_float<BITNET_TYPE_BF16, R>(wr, k, x, out);
  return dot_float<BITNET_TYPE_F32, R>(wr, k, x, out);
}

void dot_rows(const Job& j, const std::byte* wr, int64_t n0, int r, float* out) {
  const int64_t k = j.w->ne[0];
  const QuantKernels& q = *j.kernels;
  switch (j.w->type) {
    case BITNET_TYPE_Q8_0:
      return q.q8_0(wr, k, j.blocks, n0, r, out);
    case BITNET_TYPE_Q4_0:
      return q.q4_0(wr, k, j.blocks, n0, r, out);
    case BITNET_TYPE_Q4_K:
      return q.q4_k(wr, k, j.blocks, n0, r, out);
    case BITNET_TYPE_Q6_K:
      return q.q6_k(wr, k, j.blocks, n0, r, out);
    case BITNET_TYPE_I2_S:
      return q.i2_s(wr, k, j.i2s_scale, j.rows, n0, r, out);
    case BITNET_TYPE_TQ2_0:
      return q.tq2_0(wr, k, j.rows, n0, r, out);
  }
  switch (r) {
    case 4:
      return dot_float_rows<4>(j, wr, n0, out);
    case 3:
      return dot_float_rows<3>(j, wr, n0, out);
    case 2:
      return dot_float_rows<2>(j, wr, n0, out);
    default:
      return dot_float_rows<1>(j, wr, n0, out);
  }
}

void run_rows(const Job& j, int64_t m_begin, int64_t m_end) {
  const int64_t n_count = j.x->ne[1];
  float out[kMaxRows];
  for (int64_t m = m_begin; m < m_end; ++m) {
    const std::byte* wr = j.w_rows + m * static_cast<int64_t>(j.w->nb[1]);
    for (int64_t n = 0; n < n_count; n += kMaxRows) {
      const int r = static_cast<int>(std::min<int64_t>(kMaxRows, n_count - n));
      dot_rows(j, wr, n, r, out);
      for (int i = 0; i < r; ++i)
        f32_row(*j.dst, n + i, j.i2, j.i3)[m] = out[i];
    }
  }
}

}  // namespace

void mul_mat(const bitnet_tensor& dst, const QuantKernels& kernels) {
  Job j{&dst, dst.src[0], dst.src[1], &kernels};
  const bitnet_tensor& w = *j.w;
  const int64_t k = w.ne[0];
  if (w.type == BITNET_TYPE_I2_S) j.i2s_scale = cpu_generic::i2s_scale(w);
  BlockActs blocks;
  RowActs rows;
  const size_t m_count = static_cast<size_t>(w.ne[1]);
  const size_t grain = cpu_generic::balanced_grain(m_count);
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
          quantize_blocks(*j.x, i2, i3, blocks);
          j.blocks = blocks.view(k);
          break;
        case BITNET_TYPE_I2_S:
        case BITNET_TYPE_TQ2_0:
          quantize_rows(*j.x, i2, i3, rows);
          j.rows = rows.view(k);
          break;
      }
      sdk::plugin_host().parallel_for(0, m_count, grain, [&](size_t b, size_t e) {
        run_rows(j, static_cast<int64_t>(b), static_cast<int64_t>(e));
      });
    }
}

}  // namespace bitnet::cpu_neon

// MUL_MAT and GET_ROWS over every weight type, computed plainly: each weight row is decoded
// once, then dotted with every activation row in double (or exactly in integers for ternary
// weights), so the result is the same whatever the thread count.
#include <bitnet/sdk/types.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops_impl.hpp"
#include "tensor_access.hpp"
#include "weights.hpp"

namespace bitnet::cpu_generic {
namespace {

// One activation row quantised as ternary matmuls take it: int8 codes and max|x| / 127.
struct QuantRow {
  std::vector<int8_t> q;
  double scale = 0;
};

// As bitnet.cpp's quantize_row_i8_s and HF's ActQuant: absmax floored at 1e-5, round to
// nearest with ties to even (the default rounding mode), clamp to int8.
QuantRow quantize_activation(const float* x, int64_t k) {
  QuantRow out;
  out.q.resize(static_cast<size_t>(k));
  float amax = 1e-5f;
  for (int64_t i = 0; i < k; ++i)
    amax = std::max(amax, std::fabs(x[i]));
  const float iscale = 127.0f / amax;
  for (int64_t i = 0; i < k; ++i)
    out.q[i] = static_cast<int8_t>(std::clamp<long>(std::lrint(x[i] * iscale), -128, 127));
  out.scale = static_cast<double>(amax) / 127.0;
  return out;
}

void float_matmul(const bitnet_tensor& dst, const bitnet_tensor& w, const bitnet_tensor& x,
                  int64_t i2, int64_t i3) {
  const int64_t k = w.ne[0], m_count = w.ne[1], n_count = x.ne[1];
  const int64_t w2 = i2 / (x.ne[2] / w.ne[2]), w3 = i3 / (x.ne[3] / w.ne[3]);
  const int64_t w_row0 = (w3 * w.ne[2] + w2) * w.ne[1];
  sdk::plugin_host().parallel_for(0, static_cast<size_t>(m_count), 4, [&](size_t b, size_t e) {
    std::vector<float> wr(static_cast<size_t>(k));
    for (size_t m = b; m < e; ++m) {
      dequantize_row(w, w_row0 + static_cast<int64_t>(m), wr.data());
      for (int64_t n = 0; n < n_count; ++n) {
        const float* xr = f32_row(x, n, i2, i3);
        double acc = 0;
        for (int64_t i = 0; i < k; ++i)
          acc += static_cast<double>(wr[i]) * xr[i];
        f32_row(dst, n, i2, i3)[m] = static_cast<float>(acc);
      }
    }
  });
}

void ternary_matmul(const bitnet_tensor& dst, const bitnet_tensor& w, const bitnet_tensor& x,
                    int64_t i2, int64_t i3) {
  const int64_t k = w.ne[0], m_count = w.ne[1], n_count = x.ne[1];
  const int64_t w2 = i2 / (x.ne[2] / w.ne[2]), w3 = i3 / (x.ne[3] / w.ne[3]);
  const int64_t w_row0 = (w3 * w.ne[2] + w2) * w.ne[1];
  std::vector<QuantRow> xq(static_cast<size_t>(n_count));
  for (int64_t n = 0; n < n_count; ++n)
    xq[n] = quantize_activation(f32_row(x, n, i2, i3), k);
  sdk::plugin_host().parallel_for(0, static_cast<size_t>(m_count), 4, [&](size_t b, size_t e) {
    std::vector<int8_t> codes(static_cast<size_t>(k));
    std::vector<float> scales(static_cast<size_t>(k / 256) + 1);
    for (size_t m = b; m < e; ++m) {
      const TernaryRow t =
          decode_ternary_row(w, w_row0 + static_cast<int64_t>(m), codes.data(), scales.data());
      for (int64_t n = 0; n < n_count; ++n) {
        double acc = 0;
        for (int64_t g = 0; g < k / t.group; ++g) {
          int64_t dot = 0;
          for (int64_t i = g * t.group; i < (g + 1) * t.group; ++i)
            dot += codes[i] * xq[n].q[i];
          acc += static_cast<double>(scales[g]) * static_cast<double>(dot);
        }
        f32_row(dst, n, i2, i3)[m] = static_cast<float>(acc * xq[n].scale);
      }
    }
  });
}

}  // namespace

std::string check_mul_mat(const bitnet_tensor& node) {
  const bitnet_tensor& w = *node.src[0];
  const bitnet_tensor& x = *node.src[1];
  if (!is_weight_type(w.type))
    return "weights of type " + std::string(sdk::type_name(w.type)) + " are not implemented";
  if (node.type != BITNET_TYPE_F32 || x.type != BITNET_TYPE_F32)
    return "activations and output must be F32";
  if (w.ne[0] != x.ne[0]) return "inner dimensions differ: " + shape(w) + " x " + shape(x);
  if (w.type == BITNET_TYPE_I2_S && w.ne[0] % 128)
    return "I2_S rows must be a multiple of 128 elements";
  if (x.ne[2] % w.ne[2] != 0 || x.ne[3] % w.ne[3] != 0)
    return "batch dims of src1 " + shape(x) + " are not multiples of src0 " + shape(w);
  if (node.ne[0] != w.ne[1] || node.ne[1] != x.ne[1] || node.ne[2] != x.ne[2] ||
      node.ne[3] != x.ne[3])
    return "output shape " + shape(node) + " does not match " + shape(w) + " x " + shape(x);
  return {};
}

void mul_mat(const bitnet_tensor& dst) {
  const bitnet_tensor& w = *dst.src[0];
  const bitnet_tensor& x = *dst.src[1];
  for (int64_t i3 = 0; i3 < x.ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < x.ne[2]; ++i2)
      is_ternary(w.type) ? ternary_matmul(dst, w, x, i2, i3) : float_matmul(dst, w, x, i2, i3);
}

std::string check_get_rows(const bitnet_tensor& node) {
  const bitnet_tensor& w = *node.src[0];
  const bitnet_tensor& ids = *node.src[1];
  if (!is_weight_type(w.type))
    return "a table of type " + std::string(sdk::type_name(w.type)) + " is not implemented";
  if (ids.type != BITNET_TYPE_I32) return "row ids must be I32";
  if (node.type != BITNET_TYPE_F32) return "the output must be F32";
  if (w.ne[2] != 1 || w.ne[3] != 1 || ids.ne[1] != 1 || ids.ne[2] != 1 || ids.ne[3] != 1)
    return "takes a 2-D table and a 1-D list of ids";
  if (node.ne[0] != w.ne[0] || node.ne[1] != ids.ne[0] || node.ne[2] != 1 || node.ne[3] != 1)
    return "output shape " + shape(node) + " must be [" + std::to_string(w.ne[0]) + ", " +
           std::to_string(ids.ne[0]) + "]";
  return {};
}

void get_rows(const bitnet_tensor& dst) {
  const bitnet_tensor& w = *dst.src[0];
  const auto* ids = reinterpret_cast<const int32_t*>(sdk::host_data(*dst.src[1]));
  for (int64_t i = 0; i < dst.ne[1]; ++i)
    if (ids[i] < 0 || ids[i] >= w.ne[1])
      bad_input(dst, "row id " + std::to_string(ids[i]) + " at index " + std::to_string(i) +
                         " is outside the table's " + std::to_string(w.ne[1]) + " rows");
  for_rows(dst,
           [&](int64_t i1, int64_t, int64_t) { dequantize_row(w, ids[i1], f32_row(dst, i1)); });
}

}  // namespace bitnet::cpu_generic

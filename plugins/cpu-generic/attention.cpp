// ROPE and ATTENTION: positions, rotations and causal softmax attention, in double.
#include <bitnet/sdk/types.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops_impl.hpp"
#include "tensor_access.hpp"

namespace bitnet::cpu_generic {
namespace {

const int32_t* positions(const bitnet_tensor& t) {
  return reinterpret_cast<const int32_t*>(sdk::host_data(t));
}

bool is_positions(const bitnet_tensor* t, int64_t tokens) {
  return t && t->type == BITNET_TYPE_I32 && t->ne[0] == tokens && rows(*t) == 1;
}

}  // namespace

std::string check_rope(const bitnet_tensor& node) {
  const bitnet_tensor* x = node.src[0];
  if (node.type != BITNET_TYPE_F32 || x->type != BITNET_TYPE_F32)
    return "only F32 input and output are implemented";
  if (!same_shape(node, *x)) return "output shape differs from src0";
  if (x->ne[3] != 1) return "takes [head_dim, heads, tokens]";
  if (!is_positions(node.src[1], x->ne[2])) return "src1 must hold one I32 position per token";
  const float dims = node.op_params[0];
  if (!(dims >= 2 && dims <= static_cast<float>(x->ne[0])) || std::fmod(dims, 2.0f) != 0)
    return "rotated dims must be even and within the head";
  if (!(node.op_params[1] > 0)) return "the base must be positive";
  const int mode = int_param(node, 2);
  if (mode != BITNET_ROPE_NORM && mode != BITNET_ROPE_NEOX) return "unknown rope mode";
  return {};
}

void rope(const bitnet_tensor& dst) {
  const bitnet_tensor& x = *dst.src[0];
  const int32_t* pos = positions(*dst.src[1]);
  const auto dims = static_cast<int64_t>(dst.op_params[0]);
  const double base = dst.op_params[1];
  const bool neox = int_param(dst, 2) == BITNET_ROPE_NEOX;
  // Every head of a token turns by the same angles: work them out once per token.
  const int64_t half = dims / 2, tokens = dst.ne[2];
  std::vector<double> cos_sin(static_cast<size_t>(2 * half * tokens));
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t i = 0; i < half; ++i) {
      const double theta = pos[t] * std::pow(base, -2.0 * static_cast<double>(i) / dims);
      cos_sin[2 * (t * half + i)] = std::cos(theta);
      cos_sin[2 * (t * half + i) + 1] = std::sin(theta);
    }
  for_rows(dst, [&](int64_t head, int64_t t, int64_t) {
    const float* in = f32_row(x, head, t);
    float* out = f32_row(dst, head, t);
    std::copy(in, in + dst.ne[0], out);
    for (int64_t i = 0; i < half; ++i) {
      const int64_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
      const double c = cos_sin[2 * (t * half + i)], s = cos_sin[2 * (t * half + i) + 1];
      out[a] = static_cast<float>(in[a] * c - in[b] * s);
      out[b] = static_cast<float>(in[a] * s + in[b] * c);
    }
  });
}

std::string check_attention(const bitnet_tensor& node) {
  const bitnet_tensor *q = node.src[0], *k = node.src[1], *v = node.src[2];
  if (!q || !k || !v) return "needs q, k, v and positions";
  if (node.type != BITNET_TYPE_F32 || q->type != BITNET_TYPE_F32) return "q and output must be F32";
  for (const bitnet_tensor* kv : {k, v})
    if (kv->type != BITNET_TYPE_F32 && kv->type != BITNET_TYPE_F16)
      return "k and v must be F32 or F16";
  if (!same_shape(node, *q) || q->ne[3] != 1)
    return "q and output must be [head_dim, heads, tokens]";
  if (!same_shape(*k, *v) || k->ne[0] != q->ne[0] || k->ne[3] != 1)
    return "k and v must be [head_dim, kv_heads, n_kv] with q's head_dim";
  if (q->ne[1] % k->ne[1] != 0) return "heads must be a multiple of kv heads";
  if (!is_positions(node.src[3], q->ne[2])) return "src3 must hold one I32 position per query";
  return {};
}

void attention(const bitnet_tensor& dst) {
  const bitnet_tensor &q = *dst.src[0], &k = *dst.src[1], &v = *dst.src[2];
  const int32_t* pos = positions(*dst.src[3]);
  const int64_t hd = q.ne[0], n_kv = k.ne[2], group = q.ne[1] / k.ne[1];
  for (int64_t t = 0; t < q.ne[2]; ++t)
    if (pos[t] < 0 || pos[t] >= n_kv)
      bad_input(dst, "query " + std::to_string(t) + " is at position " + std::to_string(pos[t]) +
                         ", outside the " + std::to_string(n_kv) + " keys given");
  const double scale = dst.op_params[0];
  for_rows(dst, [&](int64_t head, int64_t t, int64_t) {
    const float* qr = f32_row(q, head, t);
    const int64_t kvh = head / group, n = pos[t] + 1;
    std::vector<double> p(static_cast<size_t>(n));
    double mx = -INFINITY;
    for (int64_t j = 0; j < n; ++j) {
      const std::byte* kr = row_ptr(k, kvh, j);
      double s = 0;
      for (int64_t i = 0; i < hd; ++i)
        s += static_cast<double>(qr[i]) * kv_element(kr, k.type, i);
      p[j] = s * scale;
      mx = std::max(mx, p[j]);
    }
    double sum = 0;
    for (double& e : p)
      sum += (e = std::exp(e - mx));
    std::vector<double> acc(static_cast<size_t>(hd), 0.0);
    for (int64_t j = 0; j < n; ++j) {
      const std::byte* vr = row_ptr(v, kvh, j);
      for (int64_t i = 0; i < hd; ++i)
        acc[i] += p[j] * kv_element(vr, v.type, i);
    }
    float* out = f32_row(dst, head, t);
    for (int64_t i = 0; i < hd; ++i)
      out[i] = static_cast<float>(acc[i] / sum);
  });
}

}  // namespace bitnet::cpu_generic

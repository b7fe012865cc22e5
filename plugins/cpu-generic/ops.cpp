#include "ops.hpp"

#include <bitnet/sdk/backend.hpp>
#include <bitnet/sdk/ops.hpp>
#include <bitnet/sdk/plugin.hpp>

namespace bitnet::cpu_generic {
namespace {

std::string shape(const bitnet_tensor& t) {
  std::string s = "[";
  for (int i = 0; i < BITNET_MAX_DIMS; ++i)
    s.append(i ? ", " : "").append(std::to_string(t.ne[i]));
  return s + "]";
}

bool same_shape(const bitnet_tensor& a, const bitnet_tensor& b) {
  for (int i = 0; i < BITNET_MAX_DIMS; ++i)
    if (a.ne[i] != b.ne[i]) return false;
  return true;
}

// b can be repeated to a's shape (ggml's broadcasting rule).
bool broadcasts_to(const bitnet_tensor& b, const bitnet_tensor& a) {
  for (int i = 0; i < BITNET_MAX_DIMS; ++i)
    if (b.ne[i] < 1 || a.ne[i] % b.ne[i] != 0) return false;
  return true;
}

float* row(const bitnet_tensor& t, int64_t i1, int64_t i2, int64_t i3) {
  return reinterpret_cast<float*>(sdk::host_data(t) + i1 * t.nb[1] + i2 * t.nb[2] + i3 * t.nb[3]);
}

// Splits a flat row index into (i1, i2, i3) of a tensor.
void unflatten(const bitnet_tensor& t, int64_t r, int64_t& i1, int64_t& i2, int64_t& i3) {
  i1 = r % t.ne[1];
  i2 = (r / t.ne[1]) % t.ne[2];
  i3 = r / (t.ne[1] * t.ne[2]);
}

int64_t rows(const bitnet_tensor& t) {
  return t.ne[1] * t.ne[2] * t.ne[3];
}

template <class F>
void for_rows(const bitnet_tensor& dst, F&& f) {
  sdk::plugin_host().parallel_for(0, static_cast<size_t>(rows(dst)), 1, [&](size_t b, size_t e) {
    for (size_t r = b; r < e; ++r) {
      int64_t i1, i2, i3;
      unflatten(dst, static_cast<int64_t>(r), i1, i2, i3);
      f(i1, i2, i3);
    }
  });
}

void binary(const bitnet_tensor& dst, bool add) {
  const bitnet_tensor& a = *dst.src[0];
  const bitnet_tensor& b = *dst.src[1];
  for_rows(dst, [&](int64_t i1, int64_t i2, int64_t i3) {
    const float* x = row(a, i1, i2, i3);
    const float* y = row(b, i1 % b.ne[1], i2 % b.ne[2], i3 % b.ne[3]);
    float* out = row(dst, i1, i2, i3);
    for (int64_t i = 0; i < dst.ne[0]; ++i) {
      const float yi = y[i % b.ne[0]];
      out[i] = add ? x[i] + yi : x[i] * yi;
    }
  });
}

void scale(const bitnet_tensor& dst) {
  const bitnet_tensor& a = *dst.src[0];
  const float s = dst.op_params[0];
  for_rows(dst, [&](int64_t i1, int64_t i2, int64_t i3) {
    const float* x = row(a, i1, i2, i3);
    float* out = row(dst, i1, i2, i3);
    for (int64_t i = 0; i < dst.ne[0]; ++i)
      out[i] = x[i] * s;
  });
}

// dst[i3][i2][n][m] = sum_k w[i3/r3][i2/r2][m][k] * x[i3][i2][n][k]
void mul_mat(const bitnet_tensor& dst) {
  const bitnet_tensor& w = *dst.src[0];
  const bitnet_tensor& x = *dst.src[1];
  const int64_t r2 = x.ne[2] / w.ne[2], r3 = x.ne[3] / w.ne[3];
  const int64_t m_count = w.ne[1], k_count = w.ne[0];
  const size_t total = static_cast<size_t>(rows(dst) * m_count);
  sdk::plugin_host().parallel_for(0, total, 16, [&](size_t b, size_t e) {
    for (size_t idx = b; idx < e; ++idx) {
      const int64_t m = static_cast<int64_t>(idx) % m_count;
      int64_t n, i2, i3;
      unflatten(dst, static_cast<int64_t>(idx) / m_count, n, i2, i3);
      const float* wr = row(w, m, i2 / r2, i3 / r3);
      const float* xr = row(x, n, i2, i3);
      double acc = 0.0;
      for (int64_t k = 0; k < k_count; ++k)
        acc += static_cast<double>(wr[k]) * xr[k];
      row(dst, n, i2, i3)[m] = static_cast<float>(acc);
    }
  });
}

bool positive_dims(const bitnet_tensor* t) {
  if (!t) return true;
  for (int i = 0; i < BITNET_MAX_DIMS; ++i)
    if (t->ne[i] < 1) return false;
  return true;
}

}  // namespace

std::string check_op(const bitnet_tensor& node) {
  const bitnet_tensor* a = node.src[0];
  const bitnet_tensor* b = node.src[1];
  if (!positive_dims(&node) || !positive_dims(a) || !positive_dims(b))
    return "a dimension is smaller than 1";
  auto f32 = [](const bitnet_tensor* t) { return t && t->type == BITNET_TYPE_F32; };
  switch (node.op) {
    case BITNET_OP_ADD:
    case BITNET_OP_MUL:
      if (!f32(&node) || !f32(a) || !f32(b)) return "only F32 inputs and output are implemented";
      if (!same_shape(node, *a)) return "output shape differs from src0";
      if (!broadcasts_to(*b, *a))
        return "src1 " + shape(*b) + " does not broadcast to src0 " + shape(*a);
      return {};
    case BITNET_OP_SCALE:
      if (!f32(&node) || !f32(a)) return "only F32 input and output are implemented";
      if (!same_shape(node, *a)) return "output shape differs from src0";
      return {};
    case BITNET_OP_MUL_MAT:
      if (!f32(&node) || !f32(a) || !f32(b))
        return "only F32 weights, activations and output are implemented";
      if (a->ne[0] != b->ne[0]) return "inner dimensions differ: " + shape(*a) + " x " + shape(*b);
      if (b->ne[2] % a->ne[2] != 0 || b->ne[3] % a->ne[3] != 0)
        return "batch dims of src1 " + shape(*b) + " are not multiples of src0 " + shape(*a);
      if (node.ne[0] != a->ne[1] || node.ne[1] != b->ne[1] || node.ne[2] != b->ne[2] ||
          node.ne[3] != b->ne[3])
        return "output shape " + shape(node) + " does not match " + shape(*a) + " x " + shape(*b);
      return {};
    default:
      return "op " + std::string(sdk::op_name(node.op)) + " (" + std::to_string(node.op) +
             ") is not implemented";
  }
}

void compute_op(const bitnet_tensor& node) {
  sdk::check_tensor(node);
  for (const bitnet_tensor* s : node.src)
    if (s) sdk::check_tensor(*s);
  switch (node.op) {
    case BITNET_OP_ADD:
      return binary(node, true);
    case BITNET_OP_MUL:
      return binary(node, false);
    case BITNET_OP_SCALE:
      return scale(node);
    case BITNET_OP_MUL_MAT:
      return mul_mat(node);
  }
}

}  // namespace bitnet::cpu_generic

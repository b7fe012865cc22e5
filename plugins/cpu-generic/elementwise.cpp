// Row-wise ops: ADD, MUL, SCALE, GLU, CPY and RMS_NORM.
#include <bitnet/sdk/half.hpp>
#include <bitnet/sdk/types.hpp>

#include <cmath>
#include <cstring>

#include "ops_impl.hpp"
#include "tensor_access.hpp"

namespace bitnet::cpu_generic {
namespace {

bool f32(const bitnet_tensor* t) {
  return t && t->type == BITNET_TYPE_F32;
}

// b can be repeated to a's shape (ggml's broadcasting rule).
bool broadcasts_to(const bitnet_tensor& b, const bitnet_tensor& a) {
  for (int i = 0; i < BITNET_MAX_DIMS; ++i)
    if (a.ne[i] % b.ne[i] != 0) return false;
  return true;
}

}  // namespace

std::string check_binary(const bitnet_tensor& node) {
  const bitnet_tensor *a = node.src[0], *b = node.src[1];
  if (!f32(&node) || !f32(a) || !f32(b)) return "only F32 inputs and output are implemented";
  if (!same_shape(node, *a)) return "output shape differs from src0";
  if (!broadcasts_to(*b, *a))
    return "src1 " + shape(*b) + " does not broadcast to src0 " + shape(*a);
  return {};
}

std::string check_unary(const bitnet_tensor& node) {
  if (!f32(&node) || !f32(node.src[0])) return "only F32 input and output are implemented";
  if (!same_shape(node, *node.src[0])) return "output shape differs from src0";
  return {};
}

std::string check_glu(const bitnet_tensor& node) {
  if (!f32(&node) || !f32(node.src[0]) || !f32(node.src[1]))
    return "only F32 inputs and output are implemented";
  if (!same_shape(node, *node.src[0]) || !same_shape(node, *node.src[1]))
    return "inputs and output must have one shape";
  const int kind = int_param(node, 0);
  if (kind != BITNET_GLU_SILU && kind != BITNET_GLU_RELU_SQR) return "unknown GLU kind";
  return {};
}

std::string check_cpy(const bitnet_tensor& node) {
  if (!f32(node.src[0])) return "the source must be F32";
  if (node.type != BITNET_TYPE_F32 && node.type != BITNET_TYPE_F16)
    return "copies into F32 or F16 only";
  if (!same_shape(node, *node.src[0])) return "source and destination shapes differ";
  return {};
}

std::string check_rms_norm(const bitnet_tensor& node) {
  if (!f32(&node) || !f32(node.src[0])) return "only F32 input and output are implemented";
  if (!same_shape(node, *node.src[0])) return "output shape differs from src0";
  if (const bitnet_tensor* w = node.src[1]) {
    if (!f32(w)) return "the weight must be F32";
    if (w->ne[0] != node.ne[0] || rows(*w) != 1) return "the weight must be one row of ne[0]";
  }
  if (!(node.op_params[0] >= 0)) return "epsilon must be >= 0";
  return {};
}

void binary(const bitnet_tensor& dst, bool add) {
  const bitnet_tensor& a = *dst.src[0];
  const bitnet_tensor& b = *dst.src[1];
  for_rows(dst, [&](int64_t i1, int64_t i2, int64_t i3) {
    const float* x = f32_row(a, i1, i2, i3);
    const float* y = f32_row(b, i1 % b.ne[1], i2 % b.ne[2], i3 % b.ne[3]);
    float* out = f32_row(dst, i1, i2, i3);
    for (int64_t i = 0; i < dst.ne[0]; ++i) {
      const float yi = y[i % b.ne[0]];
      out[i] = add ? x[i] + yi : x[i] * yi;
    }
  });
}

void scale(const bitnet_tensor& dst) {
  const float s = dst.op_params[0];
  for_rows(dst, [&](int64_t i1, int64_t i2, int64_t i3) {
    const float* x = f32_row(*dst.src[0], i1, i2, i3);
    float* out = f32_row(dst, i1, i2, i3);
    for (int64_t i = 0; i < dst.ne[0]; ++i)
      out[i] = x[i] * s;
  });
}

void glu(const bitnet_tensor& dst) {
  const bool silu = int_param(dst, 0) == BITNET_GLU_SILU;
  for_rows(dst, [&](int64_t i1, int64_t i2, int64_t i3) {
    const float* g = f32_row(*dst.src[0], i1, i2, i3);
    const float* u = f32_row(*dst.src[1], i1, i2, i3);
    float* out = f32_row(dst, i1, i2, i3);
    for (int64_t i = 0; i < dst.ne[0]; ++i) {
      const double x = g[i];
      const double act = silu ? x / (1.0 + std::exp(-x)) : (x > 0 ? x * x : 0.0);
      out[i] = static_cast<float>(act * u[i]);
    }
  });
}

void cpy(const bitnet_tensor& dst) {
  const bool half = dst.type == BITNET_TYPE_F16;
  for_rows(dst, [&](int64_t i1, int64_t i2, int64_t i3) {
    const float* x = f32_row(*dst.src[0], i1, i2, i3);
    std::byte* out = row_ptr(dst, i1, i2, i3);
    if (!half) {
      std::memcpy(out, x, static_cast<size_t>(dst.ne[0]) * sizeof(float));
      return;
    }
    for (int64_t i = 0; i < dst.ne[0]; ++i) {
      const uint16_t h = sdk::f32_to_fp16(x[i]);
      std::memcpy(out + 2 * i, &h, sizeof h);
    }
  });
}

void rms_norm(const bitnet_tensor& dst) {
  const bitnet_tensor* w = dst.src[1];
  const double eps = dst.op_params[0];
  for_rows(dst, [&](int64_t i1, int64_t i2, int64_t i3) {
    const float* x = f32_row(*dst.src[0], i1, i2, i3);
    float* out = f32_row(dst, i1, i2, i3);
    double sum = 0;
    for (int64_t i = 0; i < dst.ne[0]; ++i)
      sum += static_cast<double>(x[i]) * x[i];
    const double inv = 1.0 / std::sqrt(sum / static_cast<double>(dst.ne[0]) + eps);
    const float* wr = w ? f32_row(*w, 0) : nullptr;
    for (int64_t i = 0; i < dst.ne[0]; ++i)
      out[i] = static_cast<float>(x[i] * inv * (wr ? wr[i] : 1.0f));
  });
}

}  // namespace bitnet::cpu_generic

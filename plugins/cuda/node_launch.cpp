#include "node_launch.hpp"

#include <bitnet/sdk/backend.hpp>
#include <bitnet/sdk/types.hpp>

#include <limits>

#include "../cpu-generic/ops.hpp"
#include "buffer.hpp"

namespace bitnet::cuda {
namespace {

constexpr size_t kAlign = 256;

size_t round_up(size_t n) {
  return (n + kAlign - 1) / kAlign * kAlign;
}

bool ternary(int32_t type) {
  return type == BITNET_TYPE_I2_S || type == BITNET_TYPE_TQ2_0;
}

int64_t rows(const bitnet_tensor& t) {
  return t.ne[1] * t.ne[2] * t.ne[3];
}

DevTensor dev(const bitnet_tensor& t) {
  DevTensor d;
  d.data = device_data(t);
  d.type = t.type;
  for (int i = 0; i < 4; ++i) {
    d.ne[i] = t.ne[i];
    d.nb[i] = t.nb[i];
  }
  return d;
}

const int32_t* ints(const bitnet_tensor& t) {
  return reinterpret_cast<const int32_t*>(device_data(t));
}

void mul_mat(const bitnet_tensor& node, const LaunchContext& ctx) {
  const bitnet_tensor &w = *node.src[0], &x = *node.src[1];
  char* const w_data = device_data(w);
  char* const x_data = device_data(x);
  char* const d_data = device_data(node);
  const auto* i2s_scale = reinterpret_cast<const float*>(
      w.type == BITNET_TYPE_I2_S ? w_data + static_cast<size_t>(rows(w)) * w.nb[1] : nullptr);
  for (int64_t i3 = 0; i3 < x.ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < x.ne[2]; ++i2) {
      const int64_t w2 = i2 / (x.ne[2] / w.ne[2]), w3 = i3 / (x.ne[3] / w.ne[3]);
      MatmulArgs a{};
      a.type = w.type;
      a.w = w_data + w2 * w.nb[2] + w3 * w.nb[3];
      a.w_stride = w.nb[1];
      a.i2s_scale = i2s_scale;
      a.x = reinterpret_cast<const float*>(x_data + i2 * x.nb[2] + i3 * x.nb[3]);
      a.x_stride = x.nb[1];
      a.dst = reinterpret_cast<float*>(d_data + i2 * node.nb[2] + i3 * node.nb[3]);
      a.dst_stride = node.nb[1];
      a.m = w.ne[1];
      a.n = x.ne[1];
      a.k = w.ne[0];
      if (!ternary(w.type)) {
        launch_float_matmul(a, ctx.stream);
        continue;
      }
      auto* q = reinterpret_cast<int8_t*>(ctx.scratch->data());
      auto* amax =
          reinterpret_cast<float*>(ctx.scratch->data() + round_up(static_cast<size_t>(a.n * a.k)));
      launch_quantize_rows(a.x, a.x_stride, a.n, a.k, q, amax, ctx.stream);
      launch_ternary_matmul(a, q, amax, ctx.stream);
    }
}

std::string check_limits(const bitnet_tensor& node) {
  constexpr int64_t kMaxGridY = 65535;
  const int64_t kMaxRows = std::numeric_limits<int32_t>::max();
  if (rows(node) > kMaxRows) return "more rows than one kernel launch covers";
  switch (node.op) {
    case BITNET_OP_ATTENTION:
      if (node.src[0]->ne[0] > max_attention_head_dim())
        return "head_dim above " + std::to_string(max_attention_head_dim()) + " is not implemented";
      if (node.src[0]->ne[1] > kMaxRows || node.src[0]->ne[2] > kMaxGridY)
        return "too many heads or queries for one launch";
      return {};
    case BITNET_OP_ROPE:
      if (node.src[0]->ne[2] > kMaxGridY) return "too many tokens for one launch";
      return {};
    case BITNET_OP_MUL_MAT: {
      const bitnet_tensor& w = *node.src[0];
      if (w.type == BITNET_TYPE_I2_S && (w.offset % 16 || w.nb[1] % 16))
        return "I2_S weights must start on a 16-byte boundary";
      if (node.ne[1] > 64 * kMaxGridY) return "too many activation rows for one launch";
      return {};
    }
    case BITNET_OP_GET_ROWS:
      if (node.src[0]->type == BITNET_TYPE_I2_S && node.src[0]->ne[0] % 128)
        return "I2_S rows must be a multiple of 128 elements";
      return {};
    default:
      return {};
  }
}

}  // namespace

std::string check_node(const bitnet_tensor& node) {
  if (std::string why = cpu_generic::check_op(node); !why.empty()) return why;
  return check_limits(node);
}

size_t scratch_bytes(const bitnet_tensor& node) {
  if (node.op != BITNET_OP_MUL_MAT || !ternary(node.src[0]->type)) return 0;
  const auto n = static_cast<size_t>(node.src[1]->ne[1]),
             k = static_cast<size_t>(node.src[0]->ne[0]);
  return round_up(n * k) + n * sizeof(float);
}

void launch_node(const bitnet_tensor& node, const LaunchContext& ctx) {
  const bitnet_tensor* const* src = node.src;
  switch (node.op) {
    case BITNET_OP_ADD:
    case BITNET_OP_MUL:
      return launch_binary(dev(node), dev(*src[0]), dev(*src[1]), node.op == BITNET_OP_ADD,
                           ctx.stream);
    case BITNET_OP_SCALE:
      return launch_scale(dev(node), dev(*src[0]), node.op_params[0], ctx.stream);
    case BITNET_OP_MUL_MAT:
      return mul_mat(node, ctx);
    case BITNET_OP_GET_ROWS:
      return launch_get_rows(dev(node), dev(*src[0]), ints(*src[1]), ctx.error, ctx.index,
                             ctx.stream);
    case BITNET_OP_RMS_NORM:
      return launch_rms_norm(
          dev(node), dev(*src[0]),
          src[1] ? reinterpret_cast<const float*>(device_data(*src[1])) : nullptr,
          node.op_params[0], ctx.stream);
    case BITNET_OP_ROPE:
      return launch_rope(dev(node), dev(*src[0]), ints(*src[1]),
                         static_cast<int>(node.op_params[0]), node.op_params[1],
                         static_cast<int>(node.op_params[2]) == BITNET_ROPE_NEOX, ctx.stream);
    case BITNET_OP_ATTENTION:
      return launch_attention(dev(node), dev(*src[0]), dev(*src[1]), dev(*src[2]), ints(*src[3]),
                              node.op_params[0], ctx.error, ctx.index, ctx.stream);
    case BITNET_OP_GLU:
      return launch_glu(dev(node), dev(*src[0]), dev(*src[1]),
                        static_cast<int>(node.op_params[0]) == BITNET_GLU_SILU, ctx.stream);
    case BITNET_OP_CPY:
      return launch_cpy(dev(node), dev(*src[0]), ctx.stream);
  }
}

}  // namespace bitnet::cuda

#include "node_launch.hpp"

#include <bitnet/sdk/backend.hpp>
#include <bitnet/sdk/ops.hpp>
#include <bitnet/sdk/types.hpp>

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "../cpu-generic/ops.hpp"
#include "buffer.hpp"
#include "cuda_error.hpp"
#include "matmul_launch.hpp"
#include "node_groups.hpp"
#include "tensor_util.hpp"

namespace bitnet::cuda {
namespace {

// `add`: an ADD whose sum this RMS_NORM normalises, computed here instead of on its own.
void launch_node(const bitnet_tensor& node, int32_t index, const LaunchContext& ctx,
                 Quantized& held, bool quantize_output, const bitnet_tensor* add) {
  const bitnet_tensor* const* src = node.src;
  const Dynamic dynamic{ctx.dynamic, index};
  switch (node.op) {
    case BITNET_OP_ADD:
    case BITNET_OP_MUL:
      return launch_binary(dev(node), dev(*src[0]), dev(*src[1]), node.op == BITNET_OP_ADD,
                           ctx.stream);
    case BITNET_OP_SCALE:
      return launch_scale(dev(node), dev(*src[0]), node.op_params[0], ctx.stream);
    case BITNET_OP_MUL_MAT:
      return launch_mul_mat(node, ctx, held);
    case BITNET_OP_GET_ROWS:
      return launch_get_rows(dev(node), dev(*src[0]), ints(*src[1]), ctx.error, index, ctx.stream);
    case BITNET_OP_RMS_NORM: {
      const auto* weight = src[1] ? reinterpret_cast<const float*>(device_data(*src[1])) : nullptr;
      const DevTensor a = add ? dev(*add->src[0]) : DevTensor{}, b = add ? dev(*add->src[1]) : a;
      launch_rms_norm(dev(node), dev(*src[0]), add ? &a : nullptr, add ? &b : nullptr, weight,
                      node.op_params[0], quantize_output ? scratch_q(ctx) : nullptr,
                      quantize_output ? scratch_amax(ctx, node.ne[1], node.ne[0]) : nullptr,
                      ctx.stream);
      if (quantize_output) held = Quantized{device_data(node), node.ne[0], node.ne[1], node.nb[1]};
      return;
    }
    case BITNET_OP_ROPE: {
      const bitnet_tensor* one[] = {&node};
      return launch_row_tasks(rope_run(one, 1, static_cast<size_t>(index), ctx.dynamic).tasks,
                              ctx.stream);
    }
    case BITNET_OP_ATTENTION:
      return launch_attention(dev(node), dev(*src[0]), dev(*src[1]), dev(*src[2]), dynamic,
                              ints(*src[3]), node.op_params[0], ctx.error, index, ctx.stream);
    case BITNET_OP_GLU:
      return launch_glu(dev(node), dev(*src[0]), dev(*src[1]),
                        static_cast<int>(node.op_params[0]) == BITNET_GLU_SILU, ctx.stream);
    case BITNET_OP_CPY:
      return launch_cpy(dev(node), dynamic, dev(*src[0]), ctx.stream);
  }
}

// A residual ADD (no broadcasting) whose sum the next node, an RMS_NORM, takes as its input:
// one kernel does both. The norm's output may reuse the ADD's inputs' memory only where one
// block holds the whole row in registers before writing (a single row of at most
// max_held_norm_row() elements); with more rows, blocks would race.
bool adds_into_norm(const bitnet_tensor& add, const bitnet_tensor* norm) {
  if (add.op != BITNET_OP_ADD || !norm || norm->op != BITNET_OP_RMS_NORM) return false;
  const bitnet_tensor &a = *add.src[0], &b = *add.src[1];
  for (int d = 0; d < BITNET_MAX_DIMS; ++d)
    if (b.ne[d] != add.ne[d]) return false;
  if (!same_layout(*norm->src[0], add)) return false;
  const bool held = rows(*norm) == 1 && norm->ne[0] <= max_held_norm_row();
  return held || (!overlap(*norm, a) && !overlap(*norm, b));
}

// The matvec's only output is `dst`'s rows: one set, nothing fused after it.
bool writes_only(const DecodeMatvec& a, const char* dst) {
  const RowSet& s = a.set[0];
  return a.sets == 1 && !a.glu_dst && !a.resid_dst && !s.epi.rope_dst && !s.epi.store &&
         reinterpret_cast<const char*>(s.dst) == dst;
}

// Launches the run of nodes from nodes[i] that one kernel computes (node_groups.hpp); 0 when
// nodes[i] starts none.
size_t launch_run(const bitnet_tensor* const* nodes, size_t n, size_t i, const LaunchContext& ctx,
                  Quantized& held) {
  if (RopeRun r = rope_run(nodes + i, n - i, i, ctx.dynamic); r.count) {
    launch_row_tasks(r.tasks, ctx.stream);
    return r.count;
  }
  MatvecRun r = decode_matvec_run(nodes + i, n - i, i, ctx.dynamic);
  if (!r.count) return 0;
  if (ctx.mirror && i + r.count == n && writes_only(r.args, ctx.mirror_src)) {
    r.args.mirror = ctx.mirror;
    *ctx.mirrored = true;
  }
  if (r.args.type == BITNET_TYPE_I2_S && !r.args.norm.x) {
    const bitnet_tensor& x = *r.x;
    const int64_t k = r.args.k;
    if (!held.holds(x)) {
      launch_quantize_rows(r.args.x, x.nb[1], 1, k, scratch_q(ctx), scratch_amax(ctx, 1, k),
                           ctx.stream);
      held = Quantized{device_data(x), k, 1, x.nb[1]};
    }
    r.args.q = scratch_q(ctx);
    r.args.amax = scratch_amax(ctx, 1, k);
  }
  launch_decode_matvec(r.args, ctx.stream);
  return r.count;
}

// An RMS_NORM whose output the next node, a ternary matmul, takes as its activations.
bool feeds_ternary_matmul(const bitnet_tensor& norm, const bitnet_tensor* next) {
  if (norm.op != BITNET_OP_RMS_NORM || !next || !ternary_matmul(*next) || !flat(norm)) return false;
  const bitnet_tensor& x = *next->src[1];
  return flat(x) && device_data(x) == device_data(norm) && x.ne[0] == norm.ne[0] &&
         x.ne[1] == norm.ne[1] && x.nb[1] == norm.nb[1];
}

std::string check_limits(const bitnet_tensor& node) {
  constexpr int64_t kMaxGridY = 65535;
  const int64_t kMaxRows = std::numeric_limits<int32_t>::max();
  if (rows(node) > kMaxRows) return "more rows than one kernel launch covers";
  switch (node.op) {
    case BITNET_OP_ATTENTION:
      if (node.src[0]->ne[0] > max_attention_head_dim())
        return "head_dim above " + std::to_string(max_attention_head_dim()) + " is not implemented";
      if (node.src[0]->ne[2] > kMaxGridY) return "too many queries for one launch";
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

// The words of one tensor in a graph's key (kTensorKeyWords of them), from `out`.
uint64_t* write_tensor(const bitnet_tensor& t, bool with_address, bool with_ne2, uint64_t* out) {
  *out++ = static_cast<uint64_t>(t.type) << 32 | static_cast<uint32_t>(t.op);
  for (int d = 0; d < BITNET_MAX_DIMS; ++d) {
    *out++ = d == 2 && !with_ne2 ? 0 : static_cast<uint64_t>(t.ne[d]);
    // A stride no element is read at is no part of the shape (a cache view's nb[3] grows with
    // the key count although ne[3] is 1).
    *out++ = t.ne[d] > 1 || (d == 2 && !with_ne2) ? t.nb[d] : 0;
  }
  // The buffer handle and offset name the address without device_data's dynamic_cast (about
  // 10 ns each, some 3,000 a 2B4T decode step: host time the GPU waits for); a handle freed
  // and made again changes the key's epoch.
  *out++ = with_address ? reinterpret_cast<uint64_t>(t.buffer) : 0;
  *out++ = with_address ? t.offset : 0;
  return out;
}

}  // namespace

std::string check_node(const bitnet_tensor& node) {
  if (std::string why = cpu_generic::check_op(node); !why.empty()) return why;
  return check_limits(node);
}

size_t scratch_bytes(const bitnet_tensor& node) {
  return node.op == BITNET_OP_MUL_MAT ? mul_mat_scratch_bytes(node) : 0;
}

int64_t dynamic_value(const bitnet_tensor& node) {
  if (node.op == BITNET_OP_CPY) return reinterpret_cast<int64_t>(device_data(node));
  if (node.op == BITNET_OP_ATTENTION) return node.src[1]->ne[2];
  return 0;
}

uint64_t* write_shape_key(const bitnet_tensor& node, uint64_t* out) {
  out = write_tensor(node, node.op != BITNET_OP_CPY, true, out);
  for (float p : node.op_params) {
    uint32_t bits;
    std::memcpy(&bits, &p, sizeof bits);
    *out++ = bits;
  }
  for (int i = 0; i < BITNET_MAX_SRC; ++i) {
    if (!node.src[i]) {
      *out++ = ~uint64_t{0};
      continue;
    }
    const bool n_kv = node.op == BITNET_OP_ATTENTION && (i == 1 || i == 2);
    out = write_tensor(*node.src[i], true, !n_kv, out);
  }
  return out;
}

void launch_graph(const bitnet_tensor* const* nodes, size_t n, const LaunchContext& ctx,
                  Profile* profile) {
  Quantized held;
  cudaEvent_t start = nullptr, stop = nullptr;
  if (profile) {
    check_cuda(cudaEventCreate(&start), "creating an event");
    check_cuda(cudaEventCreate(&stop), "creating an event");
  }
  const bitnet_tensor* pending_add = nullptr;  // launched with the RMS_NORM after it
  for (size_t i = 0; i < n;) {
    const bitnet_tensor& node = *nodes[i];
    const bitnet_tensor* next = i + 1 < n ? nodes[i + 1] : nullptr;
    if (adds_into_norm(node, next)) {
      pending_add = &node;
      held.written(node);
      ++i;
      continue;
    }
    if (profile) cudaEventRecord(start, ctx.stream);
    size_t count = pending_add ? 0 : launch_run(nodes, n, i, ctx, held);
    const bool fuse = !count && feeds_ternary_matmul(node, next);
    if (!count) {
      launch_node(node, static_cast<int32_t>(i), ctx, held, fuse, pending_add);
      count = 1;
    }
    if (profile) {
      cudaEventRecord(stop, ctx.stream);
      cudaEventSynchronize(stop);
      float ms = 0;
      cudaEventElapsedTime(&ms, start, stop);
      std::string what = std::string(sdk::op_name(node.op)) + " " +
                         std::string(sdk::type_name(node.src[0]->type)) + " " +
                         std::to_string(node.src[0]->ne[0]) + "x" +
                         std::to_string(node.src[0]->ne[1]) + (fuse ? " +quantise" : "") +
                         (pending_add ? " +add" : "") + (node.ne[1] > 1 ? " n>1" : "") +
                         (count > 1 ? " +" + std::to_string(count - 1) + " fused" : "");
      auto& slot = profile->ms_and_count[what];
      slot.first += ms;
      ++slot.second;
    }
    pending_add = nullptr;
    for (size_t j = i; j < i + count; ++j)
      if (!(fuse && j == i)) held.written(*nodes[j]);
    if (const cudaError_t e = cudaGetLastError(); e != cudaSuccess)
      check_cuda(e, "launching node " + std::to_string(i) + " (" +
                        (node.name ? node.name : "unnamed") + ")");
    i += count;
  }
  if (profile) {
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
  }
}

}  // namespace bitnet::cuda

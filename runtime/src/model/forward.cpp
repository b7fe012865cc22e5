#include <bitnet/runtime/model/forward.hpp>

#include <array>
#include <cmath>
#include <string>

namespace bitnet::model {
namespace {

// Rows [from, from + rows) of one layer's K or V block as [head_dim, kv_heads, rows].
struct Window {
  graph::Shape ne;
  std::array<size_t, 4> nb;
  size_t offset;
};
Window cache_window(const KvCache& kv, int64_t head_dim, int64_t kv_heads, int64_t from,
                    int64_t rows) {
  const size_t row = kv.row_bytes();
  return {{head_dim, kv_heads, rows},
          {4, static_cast<size_t>(head_dim) * 4, row, row * static_cast<size_t>(rows)},
          static_cast<size_t>(from) * row};
}

class Builder {
 public:
  Builder(StepGraph& out, const ArchSpec& arch, const Hparams& h, const Weights& w,
          const KvCache& kv, StepShape s)
      : out_(out), g_(out.graph), arch_(arch), h_(h), w_(w), kv_(kv), s_(s) {}

  void build(StepGraph& out) {
    if (!s_.batch.empty()) {
      s_.n_tokens = static_cast<int64_t>(s_.batch.size());
      s_.all_logits = true;
    }
    const int64_t t = s_.n_tokens;
    out.inputs = g_.input(BITNET_TYPE_I32, {2 * t}, "inputs");
    const size_t row = static_cast<size_t>(t) * 4;
    out.token_ids = g_.view(out.inputs, {t}, {4, row, row, row}, 0);
    out.positions = g_.view(out.inputs, {t}, {4, row, row, row}, row);
    pos_ = out.positions;
    const bitnet_tensor* x = g_.op(BITNET_OP_GET_ROWS, {h_.n_embd, t},
                                   {w_.find("token_embd.weight"), out.token_ids}, {}, "embed");
    for (int64_t l = 0; l < h_.n_layer; ++l)
      x = layer(x, l);
    if (!s_.all_logits && t > 1)
      x = g_.view(x, {h_.n_embd, 1}, {4, x->nb[1], x->nb[1], x->nb[1]},
                  static_cast<size_t>(t - 1) * x->nb[1]);
    x = norm(x, "output_norm.weight", "output_norm");
    const bitnet_tensor* head = w_.find("output.weight");
    out.logits = matmul(head ? head : w_.find("token_embd.weight"), x, "logits");
    g_.mark_output(out.logits);
  }

 private:
  const bitnet_tensor* weight(int64_t layer, const char* name) {
    return w_.find("blk." + std::to_string(layer) + "." + name);
  }
  std::string node_name(const char* what) const { return prefix_ + what; }

  const bitnet_tensor* norm(const bitnet_tensor* x, const std::string& weight_name,
                            const std::string& name) {
    return g_.op(BITNET_OP_RMS_NORM, {x->ne[0], x->ne[1]}, {x, w_.find(weight_name)},
                 {static_cast<float>(h_.rms_eps)}, name);
  }
  const bitnet_tensor* matmul(const bitnet_tensor* w, const bitnet_tensor* x, std::string name) {
    return g_.op(BITNET_OP_MUL_MAT, {w->ne[1], x->ne[1]}, {w, x}, {}, std::move(name));
  }
  // Wx (+ bias when the architecture has one and the file holds it).
  const bitnet_tensor* project(int64_t l, const char* what, const bitnet_tensor* x) {
    const bitnet_tensor* y =
        matmul(weight(l, (std::string(what) + ".weight").c_str()), x, node_name(what));
    if (const bitnet_tensor* b =
            arch_.qkv_bias ? weight(l, (std::string(what) + ".bias").c_str()) : nullptr)
      y = g_.op(BITNET_OP_ADD, {y->ne[0], y->ne[1]}, {y, b}, {}, node_name(what) + "_bias");
    return y;
  }
  // [rows, T] of a wider [.., T] tensor, starting at element `first` of each token's row.
  const bitnet_tensor* columns(const bitnet_tensor* x, int64_t head_dim, int64_t heads,
                               int64_t first) {
    return g_.view(x, {head_dim, heads, x->ne[1]},
                   {4, static_cast<size_t>(head_dim) * 4, x->nb[1], x->nb[1] * x->ne[1]},
                   static_cast<size_t>(first) * 4);
  }
  const bitnet_tensor* rope(const bitnet_tensor* x, const char* what) {
    return g_.op(BITNET_OP_ROPE, {x->ne[0], x->ne[1], x->ne[2]}, {x, pos_},
                 {static_cast<float>(h_.n_rot), static_cast<float>(h_.rope_base),
                  arch_.rope_neox ? float{BITNET_ROPE_NEOX} : float{BITNET_ROPE_NORM}},
                 node_name(what));
  }
  // The cache block of one layer (K or V) as [head_dim, kv_heads, rows] from position `from`.
  const bitnet_tensor* cache(size_t block_offset, int64_t from, int64_t rows) {
    return cache(kv_, block_offset, from, rows);
  }
  const bitnet_tensor* cache(const KvCache& kv, size_t block_offset, int64_t from, int64_t rows) {
    const bitnet_tensor* block = g_.external(kv.type(), {h_.head_dim, h_.n_head_kv, kv.n_ctx()},
                                             kv.buffer(), block_offset, node_name("cache"));
    const Window w = cache_window(kv, h_.head_dim, h_.n_head_kv, from, rows);
    return g_.view(block, w.ne, w.nb, w.offset);
  }

  float attention_scale() const {
    return static_cast<float>(1.0 / std::sqrt(static_cast<double>(h_.head_dim)));
  }
  // K and V of the new tokens into the cache, then attention over it: [q_dim, tokens].
  const bitnet_tensor* attention(int64_t l, const bitnet_tensor* q, const bitnet_tensor* k,
                                 const bitnet_tensor* v) {
    const int64_t t = s_.n_tokens;
    auto& windows = out_.cache_windows;
    const auto store = [&](size_t block, const bitnet_tensor* x, const char* name) {
      const bitnet_tensor* rows = cache(block, s_.n_past, t);
      windows.push_back({rows, g_.op_into(BITNET_OP_CPY, rows, {x}, node_name(name))});
    };
    store(kv_.k_offset(l), k, "k_store");
    store(kv_.v_offset(l), v, "v_store");
    const int64_t n_kv = s_.n_past + t;
    const bitnet_tensor* keys = cache(kv_.k_offset(l), 0, n_kv);
    const bitnet_tensor* values = cache(kv_.v_offset(l), 0, n_kv);
    windows.push_back({keys, nullptr});
    windows.push_back({values, nullptr});
    const bitnet_tensor* att =
        g_.op(BITNET_OP_ATTENTION, {h_.head_dim, h_.n_head, t}, {q, keys, values, pos_},
              {attention_scale()}, node_name("attention"));
    return g_.reshape(att, {h_.n_head * h_.head_dim, t});
  }
  // The same per sequence of a batch, each on its own cache; the outputs gathered in
  // s_.gather, one column per sequence.
  const bitnet_tensor* batch_attention(int64_t l, const bitnet_tensor* q, const bitnet_tensor* k,
                                       const bitnet_tensor* v) {
    const int64_t hd = h_.head_dim, q_dim = h_.n_head * hd, n = s_.n_tokens;
    const bitnet_tensor* gathered = g_.external(BITNET_TYPE_F32, {hd, h_.n_head, n}, s_.gather,
                                                s_.gather_offset, node_name("attention"));
    for (int64_t i = 0; i < n; ++i) {
      const BatchSeq& seq = s_.batch[static_cast<size_t>(i)];
      const std::string tag = "." + std::to_string(i);
      const auto token = [&](const bitnet_tensor* x) {
        return g_.view(x, {x->ne[0], x->ne[1], 1}, {x->nb[0], x->nb[1], x->nb[2], x->nb[2]},
                       static_cast<size_t>(i) * x->nb[2]);
      };
      g_.op_into(BITNET_OP_CPY, cache(*seq.kv, seq.kv->k_offset(l), seq.n_past, 1), {token(k)},
                 node_name("k_store") + tag);
      g_.op_into(BITNET_OP_CPY, cache(*seq.kv, seq.kv->v_offset(l), seq.n_past, 1), {token(v)},
                 node_name("v_store") + tag);
      const int64_t n_kv = seq.n_past + 1;
      const bitnet_tensor* pos = g_.view(pos_, {1}, {4, 4, 4, 4}, static_cast<size_t>(i) * 4);
      const bitnet_tensor* att = g_.op(BITNET_OP_ATTENTION, {hd, h_.n_head, 1},
                                       {token(q), cache(*seq.kv, seq.kv->k_offset(l), 0, n_kv),
                                        cache(*seq.kv, seq.kv->v_offset(l), 0, n_kv), pos},
                                       {attention_scale()}, node_name("attention") + tag);
      g_.op_into(BITNET_OP_CPY, token(gathered), {att}, node_name("attention_gather") + tag);
    }
    return g_.reshape(gathered, {q_dim, n});
  }

  const bitnet_tensor* layer(const bitnet_tensor* x, int64_t l) {
    prefix_ = "blk." + std::to_string(l) + ".";
    const int64_t t = s_.n_tokens, hd = h_.head_dim;
    const int64_t q_dim = h_.n_head * hd, kv_dim = h_.n_head_kv * hd;
    const bitnet_tensor* h = norm(x, prefix_ + "attn_norm.weight", node_name("attn_norm"));
    const bitnet_tensor *q, *k, *v;
    if (arch_.fused_qkv) {
      const bitnet_tensor* qkv = project(l, "attn_qkv", h);
      q = columns(qkv, hd, h_.n_head, 0);
      k = columns(qkv, hd, h_.n_head_kv, q_dim);
      v = columns(qkv, hd, h_.n_head_kv, q_dim + kv_dim);
    } else {
      q = g_.reshape(project(l, "attn_q", h), {hd, h_.n_head, t});
      k = g_.reshape(project(l, "attn_k", h), {hd, h_.n_head_kv, t});
      v = g_.reshape(project(l, "attn_v", h), {hd, h_.n_head_kv, t});
    }
    q = rope(q, "q_rope");
    k = rope(k, "k_rope");
    const bitnet_tensor* a = s_.batch.empty() ? attention(l, q, k, v) : batch_attention(l, q, k, v);
    if (arch_.sub_norms) a = norm(a, prefix_ + "attn_sub_norm.weight", node_name("attn_sub_norm"));
    const bitnet_tensor* o = matmul(weight(l, "attn_output.weight"), a, node_name("attn_output"));
    x = g_.op(BITNET_OP_ADD, {h_.n_embd, t}, {x, o}, {}, node_name("attn_residual"));

    h = norm(x, prefix_ + "ffn_norm.weight", node_name("ffn_norm"));
    const bitnet_tensor *gate, *up;
    if (arch_.fused_gate_up) {
      const bitnet_tensor* gu = matmul(weight(l, "ffn_up.weight"), h, node_name("ffn_gate_up"));
      gate = g_.view(gu, {h_.n_ff, t}, {4, gu->nb[1], gu->nb[1] * t, gu->nb[1] * t}, 0);
      up = g_.view(gu, {h_.n_ff, t}, {4, gu->nb[1], gu->nb[1] * t, gu->nb[1] * t},
                   static_cast<size_t>(h_.n_ff) * 4);
    } else {
      gate = matmul(weight(l, "ffn_gate.weight"), h, node_name("ffn_gate"));
      up = matmul(weight(l, "ffn_up.weight"), h, node_name("ffn_up"));
    }
    const float kind = arch_.relu_sqr ? float{BITNET_GLU_RELU_SQR} : float{BITNET_GLU_SILU};
    const bitnet_tensor* act =
        g_.op(BITNET_OP_GLU, {h_.n_ff, t}, {gate, up}, {kind}, node_name("ffn_act"));
    if (arch_.sub_norms)
      act = norm(act, prefix_ + "ffn_sub_norm.weight", node_name("ffn_sub_norm"));
    const bitnet_tensor* d = matmul(weight(l, "ffn_down.weight"), act, node_name("ffn_down"));
    return g_.op(BITNET_OP_ADD, {h_.n_embd, t}, {x, d}, {}, node_name("ffn_residual"));
  }

  StepGraph& out_;
  graph::Graph& g_;
  const ArchSpec& arch_;
  const Hparams& h_;
  const Weights& w_;
  const KvCache& kv_;
  StepShape s_;
  const bitnet_tensor* pos_ = nullptr;
  std::string prefix_;
};

}  // namespace

void build_forward(StepGraph& out, const ArchSpec& arch, const Hparams& h, const Weights& w,
                   const KvCache& kv, StepShape shape) {
  Builder(out, arch, h, w, kv, shape).build(out);
}

void move_decode_step(StepGraph& step, const KvCache& kv, int64_t n_past) {
  for (const StepGraph::CacheWindow& w : step.cache_windows) {
    const bool store = w.store != nullptr;
    const Window at =
        cache_window(kv, w.view->ne[0], w.view->ne[1], store ? n_past : 0, store ? 1 : n_past + 1);
    step.graph.move_view(w.view, at.ne, at.nb, at.offset);
    if (store) step.graph.follow_into(w.store);
  }
}

Result<> upload_inputs(BackendBuffer& scratch, const StepGraph& step,
                       std::span<const int32_t> tokens, std::span<const int32_t> positions) {
  std::vector<int32_t> values(tokens.begin(), tokens.end());
  values.insert(values.end(), positions.begin(), positions.end());
  return scratch.upload(step.inputs->offset, values.data(), values.size() * sizeof(int32_t));
}

Result<> check_weights(const ArchSpec& arch, const Hparams& h, const Weights& w) {
  std::string problems;
  for (const TensorSpec& spec : tensor_specs(arch, h)) {
    const bitnet_tensor* t = w.find(spec.name);
    if (!t) {
      if (!spec.optional) problems += "\n  " + spec.name + " is missing";
      continue;
    }
    for (size_t d = 0; d < BITNET_MAX_DIMS; ++d)
      if (t->ne[d] != (d < spec.ne.size() ? spec.ne[d] : 1)) {
        problems += "\n  " + spec.name + " has the wrong shape for these hyperparameters";
        break;
      }
  }
  if (problems.empty()) return {};
  return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                    "the model's tensors do not match its " + std::string(arch.name) +
                        " hyperparameters:" + problems +
                        "\nrun `bitnet compat-check` on the file for the full report");
}

}  // namespace bitnet::model

#include "model_graph.hpp"

#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>

#include "op_case.hpp"

namespace neon_test {
namespace {

using bitnet_test::bytes_of;

constexpr size_t kArenaBytes = size_t{8} << 20;
constexpr size_t kAlign = 64;

Weight values(std::initializer_list<int64_t> ne, float centre, float spread, std::mt19937& rng) {
  Weight w{bitnet::contiguous_tensor(BITNET_TYPE_F32, ne), {}};
  std::uniform_real_distribution<float> d(centre - spread, centre + spread);
  const int64_t n = w.shape.ne[0] * w.shape.ne[1];
  w.data.resize(static_cast<size_t>(n) * 4);
  for (int64_t i = 0; i < n; ++i) {
    const float v = d(rng);
    std::memcpy(w.data.data() + 4 * i, &v, 4);
  }
  return w;
}

Weight matrix(int32_t type, int64_t k, int64_t rows, std::mt19937& rng) {
  return {bitnet::contiguous_tensor(type, {k, rows}),
          bitnet_test::random_weights(type, k * rows, rng, 0.05f)};
}

}  // namespace

std::map<std::string, Weight> random_model(const Arch& arch, const Hparams& h, int32_t type,
                                           unsigned seed) {
  std::mt19937 rng(seed);
  std::map<std::string, Weight> w;
  const int64_t q_dim = h.n_head * h.head_dim, kv_dim = h.n_head_kv * h.head_dim;
  w["token_embd.weight"] = matrix(BITNET_TYPE_F16, h.n_embd, h.n_vocab, rng);
  w["output_norm.weight"] = values({h.n_embd}, 1.0f, 0.2f, rng);
  w["output.weight"] = matrix(BITNET_TYPE_F16, h.n_embd, h.n_vocab, rng);
  for (int64_t l = 0; l < h.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    w[p + "attn_norm.weight"] = values({h.n_embd}, 1.0f, 0.2f, rng);
    w[p + "ffn_norm.weight"] = values({h.n_embd}, 1.0f, 0.2f, rng);
    if (arch.fused_qkv) {
      w[p + "attn_qkv.weight"] = matrix(type, h.n_embd, q_dim + 2 * kv_dim, rng);
    } else {
      w[p + "attn_q.weight"] = matrix(type, h.n_embd, q_dim, rng);
      w[p + "attn_k.weight"] = matrix(type, h.n_embd, kv_dim, rng);
      w[p + "attn_v.weight"] = matrix(type, h.n_embd, kv_dim, rng);
    }
    if (arch.qkv_bias) {
      w[p + "attn_q.bias"] = values({q_dim}, 0.0f, 0.05f, rng);
      w[p + "attn_k.bias"] = values({kv_dim}, 0.0f, 0.05f, rng);
      w[p + "attn_v.bias"] = values({kv_dim}, 0.0f, 0.05f, rng);
    }
    if (arch.sub_norms) {
      w[p + "attn_sub_norm.weight"] = values({q_dim}, 1.0f, 0.2f, rng);
      w[p + "ffn_sub_norm.weight"] = values({h.n_ff}, 1.0f, 0.2f, rng);
    }
    w[p + "attn_output.weight"] = matrix(type, q_dim, h.n_embd, rng);
    if (arch.fused_gate_up) {
      w[p + "ffn_up.weight"] = matrix(type, h.n_embd, 2 * h.n_ff, rng);
    } else {
      w[p + "ffn_gate.weight"] = matrix(type, h.n_embd, h.n_ff, rng);
      w[p + "ffn_up.weight"] = matrix(type, h.n_embd, h.n_ff, rng);
    }
    w[p + "ffn_down.weight"] = matrix(type, h.n_ff, h.n_embd, rng);
  }
  return w;
}

Runner::Runner(Device& device, const Arch& arch, const Hparams& h,
               const std::map<std::string, Weight>& weights)
    : device_(device), arch_(arch), h_(h) {
  for (const auto& [name, w] : weights) {
    bitnet_tensor t = w.shape;
    t.buffer = device_.alloc(w.data.size());
    device_.upload(t.buffer, 0, w.data.data(), w.data.size());
    weights_[name] = t;
  }
  const size_t kv_bytes =
      static_cast<size_t>(2 * h_.n_layer * h_.n_ctx * h_.n_head_kv * h_.head_dim * 2);
  kv_ = device_.alloc(kv_bytes);
  arena_ = device_.alloc(kArenaBytes);
  arena_bytes_ = kArenaBytes;
}

const bitnet_tensor* Runner::weight(const std::string& name) const {
  const auto it = weights_.find(name);
  return it == weights_.end() ? nullptr : &it->second;
}

const bitnet_tensor* Runner::node(int32_t op, std::initializer_list<int64_t> ne,
                                  std::initializer_list<const bitnet_tensor*> src,
                                  std::initializer_list<float> params) {
  bitnet_tensor t = bitnet::contiguous_tensor(BITNET_TYPE_F32, ne);
  used_ = (used_ + kAlign - 1) / kAlign * kAlign;
  if (used_ + bytes_of(t) > arena_bytes_) throw std::runtime_error("the graph outgrew its arena");
  t.buffer = arena_;
  t.offset = used_;
  used_ += bytes_of(t);
  t.op = op;
  int i = 0;
  for (const bitnet_tensor* s : src)
    t.src[i++] = s;
  i = 0;
  for (float p : params)
    t.op_params[i++] = p;
  tensors_.push_back(t);
  if (op != BITNET_OP_NONE) nodes_.push_back(&tensors_.back());
  return &tensors_.back();
}

const bitnet_tensor* Runner::view(const bitnet_tensor* x, std::initializer_list<int64_t> ne,
                                  std::initializer_list<size_t> nb, size_t offset) {
  bitnet_tensor t = *x;
  t.op = BITNET_OP_NONE;
  for (const bitnet_tensor*& s : t.src)
    s = nullptr;
  int i = 0;
  for (int64_t n : ne)
    t.ne[i++] = n;
  for (; i < BITNET_MAX_DIMS; ++i)
    t.ne[i] = 1;
  i = 0;
  for (size_t b : nb)
    t.nb[i++] = b;
  t.offset += offset;
  tensors_.push_back(t);
  return &tensors_.back();
}

const bitnet_tensor* Runner::reshape(const bitnet_tensor* x, std::initializer_list<int64_t> ne) {
  const bitnet_tensor c = bitnet::contiguous_tensor(x->type, ne);
  return view(x, ne, {c.nb[0], c.nb[1], c.nb[2], c.nb[3]}, 0);
}

const bitnet_tensor* Runner::input(std::span<const int32_t> values) {
  // An F32 tensor of the same size, retyped: node() allocates only F32 outputs.
  const bitnet_tensor* t = node(BITNET_OP_NONE, {static_cast<int64_t>(values.size())}, {}, {});
  tensors_.back().type = BITNET_TYPE_I32;
  device_.upload(arena_, t->offset, values.data(), values.size_bytes());
  return t;
}

// Layer l's K (or V) block as [head_dim, kv_heads, rows] from position `from`.
const bitnet_tensor* Runner::cache(bool v, int64_t l, int64_t from, int64_t rows) {
  const size_t row = static_cast<size_t>(h_.head_dim * h_.n_head_kv) * 2;
  const size_t block = row * static_cast<size_t>(h_.n_ctx);
  bitnet_tensor t = bitnet::contiguous_tensor(BITNET_TYPE_F16, {h_.head_dim, h_.n_head_kv, rows});
  t.buffer = kv_;
  t.offset = (2 * static_cast<size_t>(l) + v) * block + static_cast<size_t>(from) * row;
  tensors_.push_back(t);
  return &tensors_.back();
}

const bitnet_tensor* Runner::layer(const bitnet_tensor* x, int64_t l) {
  const std::string p = "blk." + std::to_string(l) + ".";
  const int64_t t = n_tokens_, hd = h_.head_dim;
  const int64_t q_dim = h_.n_head * hd, kv_dim = h_.n_head_kv * hd;
  const auto norm = [&](const bitnet_tensor* in, const std::string& w) {
    return node(BITNET_OP_RMS_NORM, {in->ne[0], in->ne[1]}, {in, weight(w)}, {h_.rms_eps});
  };
  const auto matmul = [&](const std::string& w, const bitnet_tensor* in) {
    const bitnet_tensor* m = weight(w);
    return node(BITNET_OP_MUL_MAT, {m->ne[1], in->ne[1]}, {m, in}, {});
  };
  const auto project = [&](const char* what, const bitnet_tensor* in) {
    const bitnet_tensor* y = matmul(p + what + ".weight", in);
    if (arch_.qkv_bias) y = node(BITNET_OP_ADD, {y->ne[0], t}, {y, weight(p + what + ".bias")}, {});
    return y;
  };
  const auto columns = [&](const bitnet_tensor* in, int64_t heads, int64_t first) {
    return view(in, {hd, heads, t}, {4, static_cast<size_t>(hd) * 4, in->nb[1], in->nb[1] * t},
                static_cast<size_t>(first) * 4);
  };
  const bitnet_tensor* h = norm(x, p + "attn_norm.weight");
  const bitnet_tensor *q, *k, *v;
  if (arch_.fused_qkv) {
    const bitnet_tensor* qkv = matmul(p + "attn_qkv.weight", h);
    q = columns(qkv, h_.n_head, 0);
    k = columns(qkv, h_.n_head_kv, q_dim);
    v = columns(qkv, h_.n_head_kv, q_dim + kv_dim);
  } else {
    q = reshape(project("attn_q", h), {hd, h_.n_head, t});
    k = reshape(project("attn_k", h), {hd, h_.n_head_kv, t});
    v = reshape(project("attn_v", h), {hd, h_.n_head_kv, t});
  }
  const float mode = arch_.rope_neox ? float{BITNET_ROPE_NEOX} : float{BITNET_ROPE_NORM};
  q = node(BITNET_OP_ROPE, {hd, h_.n_head, t}, {q, pos_},
           {static_cast<float>(hd), h_.rope_base, mode});
  k = node(BITNET_OP_ROPE, {hd, h_.n_head_kv, t}, {k, pos_},
           {static_cast<float>(hd), h_.rope_base, mode});
  for (const auto& [is_v, src] : {std::pair{false, k}, std::pair{true, v}}) {
    bitnet_tensor store = *cache(is_v, l, n_past_, t);
    store.op = BITNET_OP_CPY;
    store.src[0] = src;
    tensors_.push_back(store);
    nodes_.push_back(&tensors_.back());
  }
  const int64_t n_kv = n_past_ + t;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
  const bitnet_tensor* att =
      node(BITNET_OP_ATTENTION, {hd, h_.n_head, t},
           {q, cache(false, l, 0, n_kv), cache(true, l, 0, n_kv), pos_}, {scale});
  const bitnet_tensor* a = reshape(att, {q_dim, t});
  if (arch_.sub_norms) a = norm(a, p + "attn_sub_norm.weight");
  x = node(BITNET_OP_ADD, {h_.n_embd, t}, {x, matmul(p + "attn_output.weight", a)}, {});

  h = norm(x, p + "ffn_norm.weight");
  const bitnet_tensor *gate, *up;
  if (arch_.fused_gate_up) {
    const bitnet_tensor* gu = matmul(p + "ffn_up.weight", h);
    const std::initializer_list<size_t> nb = {4, gu->nb[1], gu->nb[1] * t, gu->nb[1] * t};
    gate = view(gu, {h_.n_ff, t}, nb, 0);
    up = view(gu, {h_.n_ff, t}, nb, static_cast<size_t>(h_.n_ff) * 4);
  } else {
    gate = matmul(p + "ffn_gate.weight", h);
    up = matmul(p + "ffn_up.weight", h);
  }
  const float kind = arch_.relu_sqr ? float{BITNET_GLU_RELU_SQR} : float{BITNET_GLU_SILU};
  const bitnet_tensor* act = node(BITNET_OP_GLU, {h_.n_ff, t}, {gate, up}, {kind});
  if (arch_.sub_norms) act = norm(act, p + "ffn_sub_norm.weight");
  return node(BITNET_OP_ADD, {h_.n_embd, t}, {x, matmul(p + "ffn_down.weight", act)}, {});
}

std::vector<float> Runner::eval(std::span<const int32_t> tokens) {
  tensors_.clear();
  nodes_.clear();
  used_ = 0;
  n_tokens_ = static_cast<int64_t>(tokens.size());
  if (n_past_ + n_tokens_ > h_.n_ctx) throw std::runtime_error("the context is full");
  std::vector<int32_t> positions;
  for (int64_t i = 0; i < n_tokens_; ++i)
    positions.push_back(static_cast<int32_t>(n_past_ + i));
  const bitnet_tensor* ids = input(tokens);
  pos_ = input(positions);

  const bitnet_tensor* x =
      node(BITNET_OP_GET_ROWS, {h_.n_embd, n_tokens_}, {weight("token_embd.weight"), ids}, {});
  for (int64_t l = 0; l < h_.n_layer; ++l)
    x = layer(x, l);
  if (n_tokens_ > 1)
    x = view(x, {h_.n_embd, 1}, {4, x->nb[1], x->nb[1], x->nb[1]},
             static_cast<size_t>(n_tokens_ - 1) * x->nb[1]);
  x = node(BITNET_OP_RMS_NORM, {h_.n_embd, 1}, {x, weight("output_norm.weight")}, {h_.rms_eps});
  const bitnet_tensor* head = weight("output.weight");
  const bitnet_tensor* logits = node(BITNET_OP_MUL_MAT, {head->ne[1], 1}, {head, x}, {});
  device_.compute(nodes_);
  std::vector<float> out(static_cast<size_t>(head->ne[1]));
  device_.download(arena_, logits->offset, out.data(), out.size() * 4);
  n_past_ += n_tokens_;
  return out;
}

}  // namespace neon_test

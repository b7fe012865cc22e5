#include <bitnet/runtime/model/architecture.hpp>

#include <cmath>

namespace bitnet::model {
namespace {

constexpr ArchSpec kArchitectures[] = {
    // llama.cpp's converter permutes LLaMA's q/k rows so RoPE rotates adjacent pairs; the
    // others keep HF's rotate_half layout (llama.cpp llama_model_rope_type, BitNet's fork).
    {.name = "llama", .family = "LLaMA-2/3 and relatives"},
    {.name = "bitnet-b1.58",
     .family = "Microsoft's BitNet b1.58 2B4T layout",
     .sub_norms = true,
     .rope_neox = true,
     .relu_sqr = true},
    {.name = "qwen2", .family = "Qwen2 and Qwen2.5", .qkv_bias = true, .rope_neox = true},
    {.name = "phi3",
     .family = "Phi-3",
     .fused_qkv = true,
     .fused_gate_up = true,
     .rope_neox = true},
};

std::string key(const ArchSpec& arch, std::string_view suffix) {
  return std::string(arch.name).append(".").append(suffix);
}

// Reads a positive integer hyperparameter; records why not when it is missing or bad.
int64_t read_count(const gguf::Reader& r, const ArchSpec& arch, std::string_view suffix,
                   bool required, std::vector<std::string>& problems) {
  const std::string k = key(arch, suffix);
  const gguf::Value* v = r.find(k);
  if (!v) {
    if (required) problems.push_back(k + " is missing (a positive integer is required)");
    return 0;
  }
  const std::optional<uint64_t> n = v->as_uint();
  if (!n || *n == 0 || *n > (uint64_t{1} << 40)) {
    problems.push_back(k + " is " + gguf::to_display(*v) + " (" +
                       std::string(gguf::type_name(v->type)) + "); a positive integer is required");
    return 0;
  }
  return static_cast<int64_t>(*n);
}

double read_real(const gguf::Reader& r, const ArchSpec& arch, std::string_view suffix,
                 std::optional<double> fallback, std::vector<std::string>& problems) {
  const std::string k = key(arch, suffix);
  const gguf::Value* v = r.find(k);
  if (!v) {
    if (!fallback) problems.push_back(k + " is missing (a positive number is required)");
    return fallback.value_or(0);
  }
  const std::optional<double> x = v->as_float();
  if (!x || !std::isfinite(*x) || *x <= 0) {
    problems.push_back(k + " is " + gguf::to_display(*v) + "; a positive number is required");
    return fallback.value_or(0);
  }
  return *x;
}

int64_t vocab_size(const gguf::Reader& r, const ArchSpec& arch,
                   std::vector<std::string>& problems) {
  if (r.find(key(arch, "vocab_size"))) return read_count(r, arch, "vocab_size", true, problems);
  if (const gguf::TensorInfo* t = r.tensor("token_embd.weight"); t && t->n_dims == 2)
    return t->ne[1];
  if (const gguf::Value* tokens = r.find("tokenizer.ggml.tokens"))
    if (const gguf::Array* a = tokens->as_array()) return static_cast<int64_t>(a->items.size());
  problems.push_back("the vocabulary size is unknown: no " + key(arch, "vocab_size") +
                     ", no 2-D token_embd.weight and no tokenizer.ggml.tokens");
  return 0;
}

}  // namespace

std::span<const ArchSpec> architectures() {
  return kArchitectures;
}

const ArchSpec* find_architecture(std::string_view name) {
  for (const ArchSpec& a : kArchitectures)
    if (a.name == name) return &a;
  return nullptr;
}

std::string architecture_names() {
  std::string out;
  for (const ArchSpec& a : kArchitectures)
    out.append(out.empty() ? "" : ", ").append(a.name);
  return out;
}

HparamsReport read_hparams(const gguf::Reader& r, const ArchSpec& arch) {
  HparamsReport rep;
  Hparams& h = rep.h;
  auto& p = rep.problems;
  h.n_ctx = read_count(r, arch, "context_length", true, p);
  h.n_embd = read_count(r, arch, "embedding_length", true, p);
  h.n_layer = read_count(r, arch, "block_count", true, p);
  h.n_ff = read_count(r, arch, "feed_forward_length", true, p);
  h.n_head = read_count(r, arch, "attention.head_count", true, p);
  h.n_head_kv = read_count(r, arch, "attention.head_count_kv", false, p);
  if (h.n_head_kv == 0) h.n_head_kv = h.n_head;
  h.head_dim = read_count(r, arch, "attention.key_length", false, p);
  if (const int64_t v = read_count(r, arch, "attention.value_length", false, p);
      v && h.head_dim && v != h.head_dim)
    p.push_back(key(arch, "attention.value_length") + " (" + std::to_string(v) + ") differs from " +
                key(arch, "attention.key_length") + " (" + std::to_string(h.head_dim) +
                "); the runtime needs them equal");
  h.rms_eps = read_real(r, arch, "attention.layer_norm_rms_epsilon", std::nullopt, p);
  h.rope_base = read_real(r, arch, "rope.freq_base", 10000.0, p);
  h.n_vocab = vocab_size(r, arch, p);
  // Every block has several tensors, so a larger count is a corrupt header; checking it here
  // also keeps tensor_specs from building millions of names for a hostile file.
  if (h.n_layer > static_cast<int64_t>(r.tensors().size()))
    p.push_back(key(arch, "block_count") + " (" + std::to_string(h.n_layer) +
                ") is more than the file's tensor count (" + std::to_string(r.tensors().size()) +
                "); the header is damaged or was written for another file");

  if (h.n_head && h.n_head_kv && h.n_head % h.n_head_kv != 0)
    p.push_back("attention.head_count (" + std::to_string(h.n_head) +
                ") is not a multiple of attention.head_count_kv (" + std::to_string(h.n_head_kv) +
                ")");
  if (h.head_dim == 0 && h.n_head && h.n_embd) {
    if (h.n_embd % h.n_head != 0)
      p.push_back("embedding_length (" + std::to_string(h.n_embd) +
                  ") is not a multiple of attention.head_count (" + std::to_string(h.n_head) +
                  ") and attention.key_length is not given");
    else
      h.head_dim = h.n_embd / h.n_head;
  }
  h.n_rot = read_count(r, arch, "rope.dimension_count", false, p);
  if (h.n_rot == 0) h.n_rot = h.head_dim;
  if (h.head_dim && (h.n_rot > h.head_dim || h.n_rot % 2 != 0))
    p.push_back("rope.dimension_count (" + std::to_string(h.n_rot) +
                ") must be even and at most the head size (" + std::to_string(h.head_dim) + ")");
  if (h.rms_eps >= 1) p.push_back("attention.layer_norm_rms_epsilon is not below 1");
  return rep;
}

Result<Hparams> require_hparams(const gguf::Reader& r, const ArchSpec& arch) {
  HparamsReport rep = read_hparams(r, arch);
  if (rep.problems.empty()) return rep.h;
  std::string msg = r.name() + ": bad " + std::string(arch.name) + " hyperparameters:";
  for (const std::string& p : rep.problems)
    msg.append("\n  ").append(p);
  msg.append("\nrun `bitnet compat-check` on the file for the full report");
  return make_error(BITNET_STATUS_INVALID_ARGUMENT, std::move(msg));
}

std::string_view role_name(TensorRole role) {
  switch (role) {
    case TensorRole::embedding:
      return "embedding";
    case TensorRole::output:
      return "output";
    case TensorRole::norm:
      return "norm";
    case TensorRole::bias:
      return "bias";
    case TensorRole::weight:
      return "weight";
    case TensorRole::rope_factors:
      return "rope factors";
  }
  return "unknown";
}

std::vector<TensorSpec> tensor_specs(const ArchSpec& arch, const Hparams& h) {
  using R = TensorRole;
  const int64_t q = h.n_head * h.head_dim, kv = h.n_head_kv * h.head_dim;
  std::vector<TensorSpec> s = {
      {"token_embd.weight", {h.n_embd, h.n_vocab}, R::embedding, false},
      {"output_norm.weight", {h.n_embd}, R::norm, false},
      {"output.weight", {h.n_embd, h.n_vocab}, R::output, true},
  };
  if (arch.fused_qkv) {
    s.push_back({"rope_factors_long.weight", {h.n_rot / 2}, R::rope_factors, true});
    s.push_back({"rope_factors_short.weight", {h.n_rot / 2}, R::rope_factors, true});
  }
  for (int64_t i = 0; i < h.n_layer; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    auto add = [&](const char* n, std::vector<int64_t> ne, R role) {
      s.push_back({b + n, std::move(ne), role, false});
    };
    add("attn_norm.weight", {h.n_embd}, R::norm);
    if (arch.fused_qkv) {
      add("attn_qkv.weight", {h.n_embd, q + 2 * kv}, R::weight);
    } else {
      add("attn_q.weight", {h.n_embd, q}, R::weight);
      add("attn_k.weight", {h.n_embd, kv}, R::weight);
      add("attn_v.weight", {h.n_embd, kv}, R::weight);
    }
    if (arch.qkv_bias) {
      add("attn_q.bias", {q}, R::bias);
      add("attn_k.bias", {kv}, R::bias);
      add("attn_v.bias", {kv}, R::bias);
    }
    if (arch.sub_norms) add("attn_sub_norm.weight", {q}, R::norm);
    add("attn_output.weight", {q, h.n_embd}, R::weight);
    add("ffn_norm.weight", {h.n_embd}, R::norm);
    if (arch.fused_gate_up) {
      add("ffn_up.weight", {h.n_embd, 2 * h.n_ff}, R::weight);
    } else {
      add("ffn_gate.weight", {h.n_embd, h.n_ff}, R::weight);
      add("ffn_up.weight", {h.n_embd, h.n_ff}, R::weight);
    }
    if (arch.sub_norms) add("ffn_sub_norm.weight", {h.n_ff}, R::norm);
    add("ffn_down.weight", {h.n_ff, h.n_embd}, R::weight);
  }
  return s;
}

}  // namespace bitnet::model

#include <bitnet/runtime/convert/convert.hpp>
#include <bitnet/runtime/convert/quantize.hpp>
#include <bitnet/runtime/convert/safetensors.hpp>
#include <bitnet/runtime/gguf/writer.hpp>
#include <bitnet/runtime/log.hpp>
#include <bitnet/runtime/tokenizer/load.hpp>
#include <bitnet/sdk/types.hpp>

#include <cmath>
#include <set>

#include "hf_config.hpp"

namespace bitnet::convert {
namespace {

using gguf::Value;
using gguf::ValueType;
using model::TensorRole;

// The HF tensor a GGUF tensor comes from.
std::string hf_name(const std::string& gguf_name, const model::ArchSpec& arch) {
  if (gguf_name == "token_embd.weight") return "model.embed_tokens.weight";
  if (gguf_name == "output_norm.weight") return "model.norm.weight";
  if (gguf_name == "output.weight") return "lm_head.weight";
  const size_t dot = gguf_name.find('.', 4);
  const std::string layer = gguf_name.substr(4, dot - 4), rest = gguf_name.substr(dot + 1);
  static const std::pair<std::string_view, std::string_view> kBlock[] = {
      {"attn_norm.weight", "input_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},
      {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},
      {"attn_q.bias", "self_attn.q_proj.bias"},
      {"attn_k.bias", "self_attn.k_proj.bias"},
      {"attn_v.bias", "self_attn.v_proj.bias"},
      {"attn_qkv.weight", "self_attn.qkv_proj.weight"},
      {"attn_sub_norm.weight", "self_attn.attn_sub_norm.weight"},
      {"attn_output.weight", "self_attn.o_proj.weight"},
      {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},
      {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_sub_norm.weight", "mlp.ffn_sub_norm.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"},
  };
  const std::string prefix = "model.layers." + layer + ".";
  if (rest == "ffn_up.weight" && arch.fused_gate_up) return prefix + "mlp.gate_up_proj.weight";
  for (const auto& [g, h] : kBlock)
    if (g == rest) return prefix + std::string(h);
  return prefix + rest;
}

// llama.cpp's LlamaModel.permute: in each head, row i + d/2 moves next to row i, so rotating
// adjacent pairs (the runtime's LLaMA RoPE) computes what HF's rotate_half does on the
// original rows.
std::vector<float> permute_rows(const std::vector<float>& w, int64_t n_head, int64_t cols) {
  const auto rows = static_cast<int64_t>(w.size()) / cols, head = rows / n_head, half = head / 2;
  std::vector<float> out(w.size());
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t j = 0; j < half; ++j)
      for (int64_t t = 0; t < 2; ++t)
        std::copy_n(w.begin() + (h * head + t * half + j) * cols, cols,
                    out.begin() + (h * head + 2 * j + t) * cols);
  return out;
}

int32_t target_type(TensorRole role, int32_t weights) {
  if (role == TensorRole::weight) return weights;
  if (role == TensorRole::embedding || role == TensorRole::output)
    return weights == BITNET_TYPE_F32 ? BITNET_TYPE_F32 : BITNET_TYPE_F16;
  return BITNET_TYPE_F32;
}

// Weight types that can be written, with llama.cpp's general.file_type for each (LLAMA_FTYPE_*;
// 40 is bitnet.cpp's MOSTLY_I2_S).
constexpr std::pair<int32_t, uint64_t> kFileTypes[] = {
    {BITNET_TYPE_F32, 0},  {BITNET_TYPE_F16, 1},    {BITNET_TYPE_Q8_0, 7},
    {BITNET_TYPE_Q4_0, 2}, {BITNET_TYPE_TQ2_0, 37}, {BITNET_TYPE_I2_S, 40}};

std::optional<uint64_t> file_type(int32_t weights) {
  for (const auto& [t, f] : kFileTypes)
    if (t == weights) return f;
  return std::nullopt;
}

void write_hparams(gguf::Writer& w, const HfConfig& c, int64_t n_vocab, int32_t weights) {
  const std::string a(c.arch->name);
  const model::Hparams& h = c.h;
  auto u32 = [](int64_t v) { return Value::of(ValueType::u32, static_cast<uint64_t>(v)); };
  w.set("general.architecture", Value::string(a));
  w.set("general.name", Value::string(c.name));
  w.set("general.file_type", u32(static_cast<int64_t>(*file_type(weights))));
  w.set("general.quantization_version", u32(2));
  w.set(a + ".vocab_size", u32(n_vocab));
  w.set(a + ".context_length", u32(h.n_ctx));
  w.set(a + ".embedding_length", u32(h.n_embd));
  w.set(a + ".block_count", u32(h.n_layer));
  w.set(a + ".feed_forward_length", u32(h.n_ff));
  w.set(a + ".attention.head_count", u32(h.n_head));
  w.set(a + ".attention.head_count_kv", u32(h.n_head_kv));
  if (h.head_dim * h.n_head != h.n_embd) {
    w.set(a + ".attention.key_length", u32(h.head_dim));
    w.set(a + ".attention.value_length", u32(h.head_dim));
  }
  w.set(a + ".rope.dimension_count", u32(h.n_rot));
  w.set(a + ".rope.freq_base", Value::of(ValueType::f32, h.rope_base));
  w.set(a + ".attention.layer_norm_rms_epsilon", Value::of(ValueType::f32, h.rms_eps));
  if (c.sliding_window) w.set(a + ".attention.sliding_window", u32(*c.sliding_window));
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s.append(i ? ", " : "").append(std::to_string(shape[i]));
  return s + "]";
}

Error bad(const std::string& what) {
  return make_error(BITNET_STATUS_INVALID_ARGUMENT, what);
}

struct Job {
  model::TensorSpec spec;
  const SafeTensor* source;
};

// The value of one GGUF tensor, from its HF source, ready to encode.
Result<std::vector<float>> tensor_values(const Job& j, const HfConfig& c, const ConvertOptions& o) {
  const std::string what = j.spec.name + " (from " + j.source->name + ")";
  std::vector<float> v = to_f32(*j.source);
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      return bad(what + " holds " + std::to_string(v[i]) + " at element " + std::to_string(i) +
                 "; the checkpoint is damaged");
  const int64_t cols = j.spec.ne[0];
  if (!c.arch->rope_neox && j.spec.name.ends_with("attn_q.weight"))
    v = permute_rows(v, c.h.n_head, cols);
  if (!c.arch->rope_neox && j.spec.name.ends_with("attn_k.weight"))
    v = permute_rows(v, c.h.n_head_kv, cols);
  if (o.quantize_ternary && j.spec.role == TensorRole::weight) ternarize_absmean(v);
  return v;
}

}  // namespace

Result<ConvertReport> convert(const ConvertOptions& o) {
  const int32_t wt = o.weight_type;
  if (!file_type(wt))
    return bad("weights of type " + std::string(sdk::type_name(wt)) +
               " cannot be written; F32, F16, Q8_0, Q4_0, I2_S and TQ2_0 can");
  Result<HfConfig> cfg = read_hf_config(o.input / "config.json", o.arch);
  if (!cfg) return cfg.error();
  const HfConfig& c = *cfg;
  const bool bitnet = c.arch->name == "bitnet-b1.58";
  if (o.quantize_ternary && !bitnet)
    return bad(
        "--quantize-ternary applies to BitNet b1.58 checkpoints, whose weights were "
        "trained to be ternarised; this is " +
        c.hf_class + " (" + std::string(c.arch->name) + ")");
  Result<Checkpoint> ckpt = Checkpoint::open(o.input);
  if (!ckpt) return ckpt.error();

  const SafeTensor* embd = ckpt->find("model.embed_tokens.weight");
  if (!embd || embd->shape.size() != 2)
    return bad(o.input.string() + ": model.embed_tokens.weight is missing or not 2-D");
  model::Hparams h = c.h;
  h.n_vocab = embd->shape[0];

  gguf::Writer w;
  write_hparams(w, c, h.n_vocab, wt);
  ConvertReport report;
  report.hf_class = c.hf_class;
  report.arch = c.arch->name;
  report.n_layer = h.n_layer;
  report.n_vocab = h.n_vocab;
  if (const auto tj = o.input / "tokenizer.json"; std::filesystem::exists(tj)) {
    Result<tok::VocabData> vocab = tok::vocab_from_hf_file(tj);
    if (!vocab) return vocab.error();
    if (static_cast<int64_t>(vocab->tokens.size()) > h.n_vocab)
      return bad(tj.string() + " has " + std::to_string(vocab->tokens.size()) +
                 " tokens but the embedding only " + std::to_string(h.n_vocab) +
                 " rows: it belongs to another model");
    report.tokenizer_tokens = vocab->tokens.size();
    tok::vocab_to_gguf(*vocab, w);
  } else {
    log::warn("convert", o.input.string(),
              " has no tokenizer.json: the GGUF carries no tokenizer, and `bitnet run` will look "
              "for one through its discovery chain (see `bitnet tokenizer where`)");
  }

  // Every HF tensor is claimed before anything is converted, so a checkpoint with weights the
  // architecture does not use (biases, extra norms) fails at once rather than losing them.
  std::vector<Job> jobs;
  std::set<std::string> used;
  const SafeTensor* lm_head = ckpt->find("lm_head.weight");
  report.tied_output = c.tied || !lm_head;
  if (c.tied && lm_head) used.insert(lm_head->name);
  for (model::TensorSpec& s : model::tensor_specs(*c.arch, h)) {
    if (s.role == TensorRole::rope_factors || (s.role == TensorRole::output && report.tied_output))
      continue;
    const std::string src = hf_name(s.name, *c.arch);
    const SafeTensor* t = ckpt->find(src);
    if (!t) return bad(o.input.string() + ": " + src + " (for " + s.name + ") is missing");
    const std::vector<int64_t> want(s.ne.rbegin(), s.ne.rend());
    if (t->shape != want)
      return bad(src + " has shape " + shape_text(t->shape) + " but the config implies " +
                 shape_text(want) + " for " + s.name);
    used.insert(src);
    jobs.push_back({std::move(s), t});
  }
  for (const SafeTensor* t : ckpt->tensors())
    if (!used.contains(t->name) && !t->name.ends_with(".rotary_emb.inv_freq"))
      return bad(o.input.string() + ": tensor " + t->name + " has no place in the runtime's " +
                 std::string(c.arch->name) +
                 " architecture; converting without it would change the model");

  for (size_t i = 0; i < jobs.size(); ++i) {
    const Job& j = jobs[i];
    if (o.progress) o.progress(i, jobs.size(), j.spec.name);
    Result<std::vector<float>> v = tensor_values(j, c, o);
    if (!v) return v.error();
    const int32_t type = target_type(j.spec.role, wt);
    Result<std::vector<std::byte>> bytes = encode_tensor(*v, j.spec.ne[0], type);
    if (!bytes) {
      std::string msg = j.spec.name + " (from " + j.source->name + ") cannot be written as " +
                        std::string(sdk::type_name(type)) + ": " + bytes.error().message;
      if (bytes.error().code == BITNET_STATUS_UNSUPPORTED)
        msg += "; choose another --type";
      else if (type == BITNET_TYPE_I2_S || type == BITNET_TYPE_TQ2_0)
        msg += bitnet ? "; add --quantize-ternary to ternarise a BitNet checkpoint's latent "
                        "weights as it was trained"
                      : "; choose --type f16, q8_0 or q4_0 for weights that are not ternary";
      return bad(msg);
    }
    if (Result<> r = w.add_tensor(j.spec.name, type, j.spec.ne, std::move(*bytes)); !r)
      return r.error();
    ++report.tensors_by_type[std::string(sdk::type_name(type))];
  }
  report.tensors = jobs.size();
  if (Result<> r = w.write(o.output); !r) return r.error();
  std::error_code ec;
  report.file_bytes = std::filesystem::file_size(o.output, ec);
  return report;
}

}  // namespace bitnet::convert

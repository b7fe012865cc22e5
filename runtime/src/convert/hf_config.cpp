#include "hf_config.hpp"

#include <boost/json.hpp>

#include <cmath>
#include <vector>

#include "json_file.hpp"

namespace bitnet::convert {
namespace {

namespace json = boost::json;

struct KnownClass {
  std::string_view hf_class;
  std::string_view arch;
  std::string_view activation;  // hidden_act the runtime's graph computes
};

constexpr KnownClass kClasses[] = {
    {"LlamaForCausalLM", "llama", "silu"},
    {"BitNetForCausalLM", "bitnet-b1.58", "relu2"},
    {"Qwen2ForCausalLM", "qwen2", "silu"},
    {"Phi3ForCausalLM", "phi3", "silu"},
};

std::string known_classes() {
  std::string out;
  for (const KnownClass& k : kClasses)
    out.append(out.empty() ? "" : ", ").append(k.hf_class);
  return out;
}

class Fields {
 public:
  explicit Fields(const json::object& o) : o_(o) {}
  std::vector<std::string> problems;

  // A positive integer; `fallback` when absent (a problem when there is none).
  int64_t count(const char* key, std::optional<int64_t> fallback = std::nullopt) {
    const json::value* v = o_.if_contains(key);
    if (!v || v->is_null()) {
      if (!fallback) problems.push_back(std::string(key) + " is missing");
      return fallback.value_or(0);
    }
    if (v->is_int64() && v->as_int64() > 0 && v->as_int64() <= (int64_t{1} << 40))
      return v->as_int64();
    problems.push_back(std::string(key) + " is " + json::serialize(*v) +
                       ", not a positive integer");
    return 0;
  }

  double real(const char* key, std::optional<double> fallback = std::nullopt) {
    const json::value* v = o_.if_contains(key);
    if (!v || v->is_null()) {
      if (!fallback) problems.push_back(std::string(key) + " is missing");
      return fallback.value_or(0);
    }
    if (v->is_number() && std::isfinite(v->to_number<double>()) && v->to_number<double>() > 0)
      return v->to_number<double>();
    problems.push_back(std::string(key) + " is " + json::serialize(*v) + ", not a positive number");
    return 0;
  }

  std::string text(const char* key, std::string fallback) {
    const json::value* v = o_.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : fallback;
  }

 private:
  const json::object& o_;
};

}  // namespace

Result<HfConfig> read_hf_config(const std::filesystem::path& path, std::string_view arch_override) {
  Result<json::object> root = read_json_object(path);
  if (!root) return root.error();
  const json::object& o = *root;
  HfConfig c;
  if (const json::value* a = o.if_contains("architectures");
      a && a->is_array() && !a->as_array().empty() && a->as_array()[0].is_string())
    c.hf_class = std::string(a->as_array()[0].as_string());
  const KnownClass* known = nullptr;
  for (const KnownClass& k : kClasses)
    if (arch_override.empty() ? k.hf_class == c.hf_class : k.arch == arch_override) known = &k;
  if (!known && !arch_override.empty())
    return make_error(
        BITNET_STATUS_INVALID_ARGUMENT,
        "--arch " + std::string(arch_override) +
            " is not an architecture the converter writes; known: " + model::architecture_names());
  if (!known)
    return make_error(BITNET_STATUS_UNSUPPORTED,
                      path.string() + ": architectures[0] is '" + c.hf_class +
                          "', which the converter does not know (known: " + known_classes() +
                          "); if its layout is one of these, name it with --arch");
  c.arch = model::find_architecture(known->arch);

  Fields f(o);
  model::Hparams& h = c.h;
  h.n_embd = f.count("hidden_size");
  h.n_ff = f.count("intermediate_size");
  h.n_layer = f.count("num_hidden_layers");
  h.n_head = f.count("num_attention_heads");
  h.n_head_kv = f.count("num_key_value_heads", h.n_head);
  h.n_ctx = f.count("max_position_embeddings");
  h.rms_eps = f.real("rms_norm_eps");
  h.rope_base = f.real("rope_theta", 10000.0);
  h.head_dim = f.count("head_dim", h.n_head && h.n_embd % h.n_head == 0 ? h.n_embd / h.n_head : 0);
  const double rotary = f.real("partial_rotary_factor", 1.0);
  h.n_rot = static_cast<int64_t>(std::llround(static_cast<double>(h.head_dim) * rotary));
  if (h.head_dim == 0 && h.n_head)
    f.problems.push_back(
        "hidden_size is not a multiple of num_attention_heads and head_dim is "
        "not given");
  if (h.n_head && h.n_head_kv && h.n_head % h.n_head_kv != 0)
    f.problems.push_back("num_attention_heads is not a multiple of num_key_value_heads");
  if (h.n_rot % 2 != 0 || h.n_rot > h.head_dim)
    f.problems.push_back("the rotary dimension " + std::to_string(h.n_rot) +
                         " is odd or larger than the head size " + std::to_string(h.head_dim));
  if (h.rms_eps >= 1) f.problems.push_back("rms_norm_eps is not below 1");
  const std::string act = f.text("hidden_act", std::string(known->activation));
  if (act != known->activation)
    f.problems.push_back("hidden_act is '" + act + "', but the runtime's " +
                         std::string(known->arch) + " graph computes '" +
                         std::string(known->activation) + "'");
  if (const json::value* s = o.if_contains("rope_scaling"); s && !s->is_null())
    f.problems.push_back("rope_scaling " + json::serialize(*s) +
                         " is not supported: the runtime applies plain RoPE, so the model would "
                         "compute different attention");
  if (const json::value* s = o.if_contains("use_sliding_window"); s && s->is_bool() && s->as_bool())
    f.problems.push_back("use_sliding_window is true; the runtime attends to the whole context");
  if (const json::value* t = o.if_contains("tie_word_embeddings"); t && t->is_bool())
    c.tied = t->as_bool();
  if (c.arch->fused_qkv)
    if (const json::value* w = o.if_contains("sliding_window"); w && w->is_int64())
      c.sliding_window = w->as_int64();
  if (!f.problems.empty()) {
    std::string msg = path.string() + ": cannot convert this " +
                      (c.hf_class.empty() ? std::string(known->hf_class) : c.hf_class) + " config:";
    for (const std::string& p : f.problems)
      msg.append("\n  ").append(p);
    return make_error(BITNET_STATUS_INVALID_ARGUMENT, std::move(msg));
  }
  c.name = f.text("_name_or_path", path.parent_path().filename().string());
  return c;
}

}  // namespace bitnet::convert

#include <bitnet/runtime/model/architecture.hpp>
#include <bitnet/runtime/model/compat_check.hpp>
#include <bitnet/sdk/types.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace bitnet::model {
namespace {

// Lists at most `max` names, then how many more there were.
std::string list(const std::vector<std::string>& names, size_t max = 4) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < max; ++i)
    out.append(i ? ", " : "").append(names[i]);
  if (names.size() > max)
    out.append(" and ").append(std::to_string(names.size() - max)).append(" more");
  return out;
}

std::string shape(std::span<const int64_t> ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i)
    s.append(i ? ", " : "").append(std::to_string(ne[i]));
  return s + "]";
}

std::string count(size_t n, std::string_view noun) {
  return std::to_string(n).append(" ").append(noun).append(n == 1 ? "" : "s");
}

bool is_float(int32_t type) {
  return type == BITNET_TYPE_F32 || type == BITNET_TYPE_F16 || type == BITNET_TYPE_BF16;
}

std::vector<std::string> matmul_runners(const std::vector<InstalledBackend>& backends,
                                        int32_t type) {
  std::vector<std::string> out;
  for (const InstalledBackend& b : backends)
    for (const OpSupport& op : b.caps.ops)
      if (op.op == BITNET_OP_MUL_MAT && std::ranges::count(op.types, type)) out.push_back(b.plugin);
  return out;
}

Check backends_check(const std::vector<InstalledBackend>& backends) {
  if (backends.empty())
    return {"backends", Verdict::fail,
            "no backend plugin is installed or loadable; `bitnet plugins` says why, and "
            "BITNET_PLUGIN_PATH can point at a folder of plugins"};
  std::vector<std::string> names;
  for (const InstalledBackend& b : backends)
    names.push_back(b.plugin);
  return {"backends", Verdict::pass, list(names, 8)};
}

Check hparams_check(const ArchSpec& arch, const HparamsReport& rep) {
  if (!rep.problems.empty()) {
    std::string d;
    for (const std::string& p : rep.problems)
      d.append(d.empty() ? "" : "; ").append(p);
    return {"hyperparameters", Verdict::fail, d};
  }
  const Hparams& h = rep.h;
  return {"hyperparameters", Verdict::pass,
          std::string(arch.name) + ": " + std::to_string(h.n_layer) + " layers, embedding " +
              std::to_string(h.n_embd) + ", feed-forward " + std::to_string(h.n_ff) + ", heads " +
              std::to_string(h.n_head) + " (kv " + std::to_string(h.n_head_kv) + ", size " +
              std::to_string(h.head_dim) + "), context " + std::to_string(h.n_ctx) +
              ", vocabulary " + std::to_string(h.n_vocab)};
}

void tensor_checks(const gguf::Reader& r, const ArchSpec& arch, const Hparams& h,
                   const std::vector<InstalledBackend>& backends, std::vector<Check>& out) {
  const std::vector<TensorSpec> specs = tensor_specs(arch, h);
  std::vector<std::string> missing, misshapen, bad_float;
  std::map<int32_t, std::vector<std::string>> weights_by_type;
  std::set<std::string_view> known;
  bool has_output = false;
  for (const TensorSpec& s : specs) {
    known.insert(s.name);
    const gguf::TensorInfo* t = r.tensor(s.name);
    if (!t) {
      if (!s.optional) missing.push_back(s.name);
      continue;
    }
    has_output |= s.role == TensorRole::output;
    const std::span<const int64_t> got(t->ne.data(), t->n_dims);
    if (!std::ranges::equal(got, s.ne))
      misshapen.push_back(s.name + " is " + shape(got) + ", expected " + shape(s.ne));
    const bool matmul = s.role == TensorRole::weight || s.role == TensorRole::output ||
                        s.role == TensorRole::embedding;
    if (matmul)
      weights_by_type[t->type].push_back(s.name);
    else if (!is_float(t->type))
      bad_float.push_back(s.name + " (" + std::string(sdk::type_name(t->type)) + ")");
  }

  const size_t required = std::ranges::count(specs, false, &TensorSpec::optional);
  if (missing.empty())
    out.push_back(
        {"tensors present", Verdict::pass,
         "all " + std::to_string(required) + " required tensors" +
             (has_output ? "" : "; output.weight absent, so token_embd is tied as the output")});
  else
    out.push_back({"tensors present", Verdict::fail,
                   std::to_string(missing.size()) + " of " + std::to_string(required) +
                       " required tensors missing: " + list(missing) +
                       "; the file is incomplete or not a " + std::string(arch.name) + " model"});

  if (misshapen.empty())
    out.push_back({"tensor shapes", Verdict::pass,
                   "every tensor found has the shape the hyperparameters give"});
  else
    out.push_back({"tensor shapes", Verdict::fail,
                   std::to_string(misshapen.size()) + " wrong: " + list(misshapen, 3) +
                       "; the hyperparameters and the tensors disagree"});

  std::vector<std::string> runnable, unrunnable;
  for (const auto& [type, names] : weights_by_type) {
    const std::string what =
        std::string(sdk::type_name(type)) + " (" + count(names.size(), "tensor");
    const std::vector<std::string> runners = matmul_runners(backends, type);
    if (runners.empty())
      unrunnable.push_back(what + ", e.g. " + names.front() + ")");
    else
      runnable.push_back(what + ": " + list(runners, 8) + ")");
  }
  if (!unrunnable.empty())
    out.push_back({"tensor types", Verdict::fail,
                   "no installed backend multiplies by " + list(unrunnable, 8) +
                       "; install a backend plugin that does (`bitnet plugins` lists what each "
                       "runs) or convert the model to a supported type"});
  else if (!bad_float.empty())
    out.push_back({"tensor types", Verdict::fail,
                   "norm and bias tensors must be F32, F16 or BF16: " + list(bad_float)});
  else
    out.push_back({"tensor types", Verdict::pass,
                   "weights " + list(runnable, 8) + "; norms and biases in float types"});

  std::vector<std::string> extra;
  for (const gguf::TensorInfo& t : r.tensors())
    if (!known.contains(t.name)) extra.push_back(t.name);
  if (extra.empty())
    out.push_back({"unexpected tensors", Verdict::pass, "none"});
  else
    out.push_back({"unexpected tensors", Verdict::warn,
                   count(extra.size(), "tensor") + " the " + std::string(arch.name) +
                       " architecture does not use will be ignored: " + list(extra)});
}

const std::vector<gguf::Value>* string_array(const gguf::Reader& r, std::string_view key) {
  const gguf::Value* v = r.find(key);
  const gguf::Array* a = v ? v->as_array() : nullptr;
  return a && a->element_type == gguf::ValueType::string ? &a->items : nullptr;
}

Check embedded_tokenizer_check(const gguf::Reader& r, const std::string& model,
                               std::optional<int64_t> n_vocab) {
  const std::vector<gguf::Value>* tokens = string_array(r, "tokenizer.ggml.tokens");
  if (model != "llama" && model != "gpt2")
    return {"tokenizer", Verdict::fail,
            "embedded tokenizer.ggml.model is '" + model +
                "'; supported are 'llama' (SentencePiece) and 'gpt2' (byte-level BPE)"};
  if (!tokens || tokens->empty())
    return {"tokenizer", Verdict::fail,
            "tokenizer.ggml.model is '" + model +
                "' but tokenizer.ggml.tokens is missing, empty or not an array of strings"};
  if (model == "gpt2" && !string_array(r, "tokenizer.ggml.merges"))
    return {"tokenizer", Verdict::fail,
            "a 'gpt2' tokenizer needs tokenizer.ggml.merges (an array of strings); it is missing"};
  const int64_t n = static_cast<int64_t>(tokens->size());
  for (const char* id_key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                             "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id"})
    if (const gguf::Value* v = r.find(id_key)) {
      const std::optional<uint64_t> id = v->as_uint();
      if (!id || *id >= static_cast<uint64_t>(n))
        return {"tokenizer", Verdict::fail,
                std::string(id_key) + " is " + gguf::to_display(*v) + ", not a token id below " +
                    std::to_string(n)};
    }
  std::string detail = "embedded, '" + model + "' with " + std::to_string(n) + " tokens";
  if (n_vocab && n > *n_vocab)
    return {"tokenizer", Verdict::fail,
            detail + ", more than the " + std::to_string(*n_vocab) +
                " rows of token_embd: some token ids have no embedding"};
  if (n_vocab && n < *n_vocab)
    return {"tokenizer", Verdict::warn,
            detail + "; token_embd has " + std::to_string(*n_vocab) +
                " rows (padding), the extra ids are never produced by the tokenizer"};
  return {"tokenizer", Verdict::pass, detail};
}

Check tokenizer_check(const gguf::Reader& r, const std::filesystem::path& model_path,
                      std::optional<int64_t> n_vocab) {
  if (const gguf::Value* m = r.find("tokenizer.ggml.model")) {
    const std::string* model = m->as_string();
    if (!model)
      return {
          "tokenizer", Verdict::fail,
          "tokenizer.ggml.model is a " + std::string(gguf::type_name(m->type)) + ", not a string"};
    return embedded_tokenizer_check(r, *model, n_vocab);
  }
  const std::filesystem::path dir = model_path.parent_path();
  for (const char* name : {"tokenizer.json", "tokenizer.model"}) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(dir / name, ec))
      return {"tokenizer", Verdict::pass,
              "not embedded; found beside the model: " + (dir / name).string()};
  }
  if (const gguf::Value* repo = r.find("general.source.huggingface.repository"))
    if (const std::string* id = repo->as_string())
      return {"tokenizer", Verdict::warn,
              "not embedded and no tokenizer.json or tokenizer.model beside the model; it would "
              "be fetched from the Hugging Face hub repository '" +
                  *id + "' (needs the network, or a cached copy)"};
  return {"tokenizer", Verdict::fail,
          "not embedded (no tokenizer.ggml.model), no tokenizer.json or tokenizer.model in " +
              (dir.empty() ? std::string(".") : dir.string()) +
              ", and no general.source.huggingface.repository to fetch one from; put the "
              "model's tokenizer.json beside it"};
}

}  // namespace

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::pass:
      return "PASS";
    case Verdict::warn:
      return "WARN";
    case Verdict::fail:
      return "FAIL";
  }
  return "FAIL";
}

Verdict overall(const std::vector<Check>& checks) {
  Verdict worst = Verdict::pass;
  for (const Check& c : checks)
    worst = std::max(worst, c.verdict);
  return worst;
}

std::vector<Check> compat_check(const gguf::Reader& r, const std::filesystem::path& model_path,
                                const std::vector<InstalledBackend>& backends) {
  std::vector<Check> out;
  out.push_back(backends_check(backends));
  const gguf::Value* arch_value = r.find("general.architecture");
  const std::string* arch_name = arch_value ? arch_value->as_string() : nullptr;
  const ArchSpec* arch = arch_name ? find_architecture(*arch_name) : nullptr;
  std::optional<int64_t> n_vocab;
  if (!arch_name) {
    out.push_back({"architecture", Verdict::fail,
                   "general.architecture is missing or not a string; it names the model's "
                   "architecture, one of " +
                       architecture_names()});
  } else if (!arch) {
    out.push_back({"architecture", Verdict::fail,
                   "'" + *arch_name + "' is not an architecture this runtime knows (" +
                       architecture_names() + ")"});
  } else {
    out.push_back({"architecture", Verdict::pass,
                   std::string(arch->name) + " (" + std::string(arch->family) + ")"});
    const HparamsReport rep = read_hparams(r, *arch);
    out.push_back(hparams_check(*arch, rep));
    if (rep.problems.empty()) {
      tensor_checks(r, *arch, rep.h, backends, out);
      n_vocab = rep.h.n_vocab;
    }
  }
  out.push_back(tokenizer_check(r, model_path, n_vocab));
  return out;
}

}  // namespace bitnet::model

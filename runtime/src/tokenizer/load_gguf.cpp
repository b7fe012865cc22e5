#include <bitnet/runtime/tokenizer/load.hpp>

#include <unordered_map>

namespace bitnet::tok {
namespace {

using gguf::Value;
using gguf::ValueType;

Error bad(const gguf::Reader& r, const std::string& what) {
  return make_error(BITNET_STATUS_INVALID_ARGUMENT, r.name() + ": " + what);
}

const gguf::Array* array_of(const gguf::Reader& r, const char* key, ValueType element) {
  const Value* v = r.find(key);
  const gguf::Array* a = v ? v->as_array() : nullptr;
  return a && a->element_type == element ? a : nullptr;
}

std::optional<TokenId> id_of(const gguf::Reader& r, const char* key) {
  const Value* v = r.find(key);
  if (!v) return std::nullopt;
  const auto u = v->as_uint();
  return u && *u <= INT32_MAX ? std::optional<TokenId>(static_cast<TokenId>(*u)) : std::nullopt;
}

std::optional<bool> flag(const gguf::Reader& r, const char* key) {
  const Value* v = r.find(key);
  return v && v->type == ValueType::boolean ? std::optional<bool>(std::get<bool>(v->data))
                                            : std::nullopt;
}

const std::unordered_map<std::string, PreTokenizer>& pre_names() {
  static const std::unordered_map<std::string, PreTokenizer> m = {
      {"default", PreTokenizer::gpt2},  {"gpt-2", PreTokenizer::gpt2},
      {"gpt2", PreTokenizer::gpt2},     {"llama-bpe", PreTokenizer::llama3},
      {"llama3", PreTokenizer::llama3}, {"qwen2", PreTokenizer::qwen2}};
  return m;
}

}  // namespace

Result<VocabData> vocab_from_gguf(const gguf::Reader& r) {
  VocabData v;
  const Value* model = r.find("tokenizer.ggml.model");
  const std::string* kind = model ? model->as_string() : nullptr;
  if (!kind) return bad(r, "no embedded tokenizer (tokenizer.ggml.model is missing)");
  if (*kind == "gpt2") {
    v.model = ModelKind::byte_level_bpe;
    const Value* pre = r.find("tokenizer.ggml.pre");
    const std::string name = pre && pre->as_string() ? *pre->as_string() : "default";
    const auto it = pre_names().find(name);
    if (it == pre_names().end())
      return bad(r, "tokenizer.ggml.pre '" + name +
                        "' is not supported (supported: default, gpt-2, llama-bpe, qwen2)");
    v.pre = it->second;
    v.ignore_merges = v.pre == PreTokenizer::llama3;
    v.nfc = v.pre == PreTokenizer::qwen2;
  } else if (*kind == "llama") {
    v.model = ModelKind::sentencepiece_bpe;
    v.pre = PreTokenizer::none;
    v.byte_fallback = true;
    v.fuse_unk = true;
  } else {
    return bad(r,
               "tokenizer.ggml.model '" + *kind +
                   "' is not supported (supported: 'gpt2' byte-level BPE, 'llama' SentencePiece)");
  }

  const gguf::Array* tokens = array_of(r, "tokenizer.ggml.tokens", ValueType::string);
  if (!tokens || tokens->items.empty())
    return bad(r, "tokenizer.ggml.tokens is missing, empty or not an array of strings");
  const size_t n = tokens->items.size();
  v.tokens.reserve(n);
  for (const Value& t : tokens->items)
    v.tokens.push_back(*t.as_string());
  v.kinds.assign(n, TokenKind::normal);
  if (const gguf::Value* types = r.find("tokenizer.ggml.token_type")) {
    const gguf::Array* a = types->as_array();
    if (!a || a->items.size() != n)
      return bad(r, "tokenizer.ggml.token_type must be an array of " + std::to_string(n) +
                        " integers, one per token");
    for (size_t i = 0; i < n; ++i) {
      const auto t = a->items[i].as_int();
      if (!t || *t < 1 || *t > 6)
        return bad(r, "tokenizer.ggml.token_type[" + std::to_string(i) + "] is not 1..6");
      v.kinds[i] = static_cast<TokenKind>(*t);
    }
  }
  if (const gguf::Value* scores = r.find("tokenizer.ggml.scores")) {
    const gguf::Array* a = scores->as_array();
    if (!a || a->items.size() != n)
      return bad(r, "tokenizer.ggml.scores must hold one number per token");
    for (const Value& s : a->items)
      v.scores.push_back(static_cast<float>(s.as_float().value_or(0)));
  }
  if (const gguf::Value* merges = r.find("tokenizer.ggml.merges")) {
    const gguf::Array* a = merges->as_array();
    if (!a || a->element_type != ValueType::string)
      return bad(r, "tokenizer.ggml.merges must be an array of strings");
    v.merges.reserve(a->items.size());
    for (size_t i = 0; i < a->items.size(); ++i) {
      const std::string& m = *a->items[i].as_string();
      const size_t sp = m.find(' ', 1);
      if (sp == std::string::npos)
        return bad(r, "tokenizer.ggml.merges[" + std::to_string(i) + "] '" + m +
                          "' is not two tokens separated by a space");
      v.merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
    }
  } else if (v.model == ModelKind::byte_level_bpe) {
    return bad(r, "a 'gpt2' tokenizer needs tokenizer.ggml.merges");
  }
  // Control tokens are specials; user-defined ones are matched in text as HF added tokens.
  for (size_t i = 0; i < n; ++i)
    if (v.kinds[i] == TokenKind::control || v.kinds[i] == TokenKind::user_defined)
      v.added.push_back({.id = static_cast<TokenId>(i),
                         .content = v.tokens[i],
                         .special = v.kinds[i] == TokenKind::control});
  v.unk = id_of(r, "tokenizer.ggml.unknown_token_id");
  v.bos = id_of(r, "tokenizer.ggml.bos_token_id");
  v.eos = id_of(r, "tokenizer.ggml.eos_token_id");
  v.eot = id_of(r, "tokenizer.ggml.eot_token_id");
  v.pad = id_of(r, "tokenizer.ggml.padding_token_id");
  v.add_bos =
      flag(r, "tokenizer.ggml.add_bos_token").value_or(v.model == ModelKind::sentencepiece_bpe);
  v.add_eos = flag(r, "tokenizer.ggml.add_eos_token").value_or(false);
  if (const Value* t = r.find("tokenizer.chat_template"); t && t->as_string())
    v.chat_template = *t->as_string();
  return v;
}

void vocab_to_gguf(const VocabData& v, gguf::Writer& w) {
  const bool spm = v.model == ModelKind::sentencepiece_bpe;
  w.set("tokenizer.ggml.model", Value::string(spm ? "llama" : "gpt2"));
  if (!spm)
    w.set("tokenizer.ggml.pre", Value::string(v.pre == PreTokenizer::llama3  ? "llama-bpe"
                                              : v.pre == PreTokenizer::qwen2 ? "qwen2"
                                                                             : "gpt-2"));
  std::vector<Value> tokens, types, scores;
  std::vector<float> score(v.tokens.size(), 0.0f);
  if (spm && v.scores.size() == v.tokens.size()) {
    score = v.scores;
  } else if (spm) {
    // A token made by merge r scores -r - 1: higher for earlier merges, as SentencePiece's are.
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < v.tokens.size(); ++i)
      index.emplace(v.tokens[i], i);
    std::vector<bool> seen(v.tokens.size(), false);
    for (size_t r = 0; r < v.merges.size(); ++r)
      if (const auto it = index.find(v.merges[r].first + v.merges[r].second);
          it != index.end() && !seen[it->second]) {
        seen[it->second] = true;
        score[it->second] = -static_cast<float>(r) - 1;
      }
  }
  std::vector<TokenKind> kinds = v.kinds;
  kinds.resize(v.tokens.size(), TokenKind::normal);
  for (const AddedToken& a : v.added)
    kinds[a.id] = a.special ? TokenKind::control : TokenKind::user_defined;
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    tokens.push_back(Value::string(v.tokens[i]));
    types.push_back(Value::of(ValueType::i32, static_cast<int64_t>(kinds[i])));
    scores.push_back(Value::of(ValueType::f32, static_cast<double>(score[i])));
  }
  w.set("tokenizer.ggml.tokens", Value::array(ValueType::string, std::move(tokens)));
  w.set("tokenizer.ggml.token_type", Value::array(ValueType::i32, std::move(types)));
  if (spm) {
    w.set("tokenizer.ggml.scores", Value::array(ValueType::f32, std::move(scores)));
  } else {
    std::vector<Value> merges;
    for (const auto& [a, b] : v.merges)
      merges.push_back(Value::string(a + " " + b));
    w.set("tokenizer.ggml.merges", Value::array(ValueType::string, std::move(merges)));
  }
  auto set_id = [&](const char* key, const std::optional<TokenId>& id) {
    if (id) w.set(key, Value::of(ValueType::u32, static_cast<uint64_t>(*id)));
  };
  set_id("tokenizer.ggml.unknown_token_id", v.unk);
  set_id("tokenizer.ggml.bos_token_id", v.bos);
  set_id("tokenizer.ggml.eos_token_id", v.eos);
  set_id("tokenizer.ggml.eot_token_id", v.eot);
  set_id("tokenizer.ggml.padding_token_id", v.pad);
  w.set("tokenizer.ggml.add_bos_token", Value::boolean(v.add_bos));
  w.set("tokenizer.ggml.add_eos_token", Value::boolean(v.add_eos));
  if (!v.chat_template.empty()) w.set("tokenizer.chat_template", Value::string(v.chat_template));
}

}  // namespace bitnet::tok

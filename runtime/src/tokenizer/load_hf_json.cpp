#include <bitnet/runtime/tokenizer/load.hpp>

#include <boost/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace bitnet::tok {
namespace {

namespace json = boost::json;

const std::string kSpace = "\xe2\x96\x81";

// The Split regexes of the pre-tokenizers implemented by hand, as tokenizer.json spells them.
const std::pair<const char*, PreTokenizer> kKnownSplits[] = {
    {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
     "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
     PreTokenizer::llama3},
    {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
     "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
     PreTokenizer::qwen2},
    {"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
     PreTokenizer::gpt2},
};

struct Loader {
  const std::string& name;
  VocabData v;
  bool byte_level = false, metaspace = false;

  Error bad(const std::string& what) const {
    return make_error(BITNET_STATUS_INVALID_ARGUMENT, name + ": " + what);
  }

  static std::vector<const json::object*> flatten(const json::value& node, const char* list_key) {
    std::vector<const json::object*> out;
    if (!node.is_object()) return out;
    const json::object& o = node.as_object();
    if (const json::value* inner = o.if_contains(list_key); inner && inner->is_array()) {
      for (const json::value& x : inner->as_array())
        for (const json::object* y : flatten(x, list_key))
          out.push_back(y);
    } else {
      out.push_back(&o);
    }
    return out;
  }

  static std::string type_of(const json::object& o) {
    const json::value* t = o.if_contains("type");
    return t && t->is_string() ? std::string(t->as_string()) : "";
  }

  Result<> normalizer(const json::value& node) {
    for (const json::object* n : flatten(node, "normalizers")) {
      const std::string t = type_of(*n);
      if (t == "NFC") {
        v.nfc = true;
      } else if (t == "Prepend" && n->contains("prepend") && n->at("prepend") == kSpace.c_str()) {
        metaspace = true;
      } else if (t == "Replace" && n->contains("content") && n->at("content") == kSpace.c_str()) {
        metaspace = true;
      } else {
        return bad("normalizer '" + t +
                   "' is not supported (supported: NFC, and SentencePiece's "
                   "Prepend/Replace with U+2581)");
      }
    }
    return {};
  }

  Result<> pre_tokenizer(const json::value& node) {
    v.pre = PreTokenizer::none;
    for (const json::object* p : flatten(node, "pretokenizers")) {
      const std::string t = type_of(*p);
      if (t == "ByteLevel") {
        byte_level = true;
        const json::value* use_regex = p->if_contains("use_regex");
        if (use_regex && use_regex->is_bool() && use_regex->as_bool()) v.pre = PreTokenizer::gpt2;
        const json::value* prefix = p->if_contains("add_prefix_space");
        if (prefix && prefix->is_bool() && prefix->as_bool())
          return bad("ByteLevel add_prefix_space is not supported");
      } else if (t == "Split") {
        const json::value* re = p->if_contains("pattern");
        const json::value* regex =
            re && re->is_object() ? re->as_object().if_contains("Regex") : nullptr;
        const std::string pattern =
            regex && regex->is_string() ? std::string(regex->as_string()) : "";
        bool known = false;
        for (const auto& [text, kind] : kKnownSplits)
          if (pattern == text) {
            v.pre = kind;
            known = true;
          }
        if (!known) return bad("pre-tokenizer Split pattern '" + pattern + "' is not supported");
      } else if (t == "Metaspace") {
        metaspace = true;
      } else {
        return bad("pre-tokenizer '" + t + "' is not supported");
      }
    }
    return {};
  }

  // TemplateProcessing's "single": special tokens before and after the sequence.
  void post_processor(const json::value& node) {
    for (const json::object* p : flatten(node, "processors")) {
      if (type_of(*p) != "TemplateProcessing") continue;
      const json::value* single = p->if_contains("single");
      if (!single || !single->is_array()) continue;
      bool after = false;
      for (const json::value& item : single->as_array()) {
        if (!item.is_object()) continue;
        if (item.as_object().contains("Sequence")) {
          after = true;
          continue;
        }
        const json::value* st = item.as_object().if_contains("SpecialToken");
        const json::value* name =
            st && st->is_object() ? st->as_object().if_contains("id") : nullptr;
        if (!name || !name->is_string()) continue;
        const std::string tok(name->as_string());
        const auto id = find(tok);
        if (!id) continue;
        if (after) {
          v.add_eos = true;
          v.eos = id;
        } else {
          v.add_bos = true;
          v.bos = id;
        }
      }
    }
  }

  std::optional<TokenId> find(const std::string& token) const {
    for (size_t i = 0; i < v.tokens.size(); ++i)
      if (v.tokens[i] == token) return static_cast<TokenId>(i);
    return std::nullopt;
  }

  Result<> model(const json::object& m) {
    if (type_of(m) != "BPE")
      return bad("model type '" + type_of(m) + "' is not supported (only BPE)");
    const json::value* vocab = m.if_contains("vocab");
    if (!vocab || !vocab->is_object()) return bad("model.vocab is missing or not an object");
    for (const auto& kv : vocab->as_object()) {
      if (!kv.value().is_int64() || kv.value().as_int64() < 0 || kv.value().as_int64() > INT32_MAX)
        return bad("model.vocab['" + std::string(kv.key()) + "'] is not a token id");
      const auto id = static_cast<size_t>(kv.value().as_int64());
      if (id >= v.tokens.size()) v.tokens.resize(id + 1);
      v.tokens[id] = std::string(kv.key());
    }
    const json::value* merges = m.if_contains("merges");
    if (!merges || !merges->is_array()) return bad("model.merges is missing or not an array");
    v.merges.reserve(merges->as_array().size());
    for (const json::value& x : merges->as_array()) {
      if (x.is_string()) {
        const std::string_view s = x.as_string();
        const size_t sp = s.find(' ', 1);
        if (sp == std::string_view::npos) return bad("merge '" + std::string(s) + "' has no space");
        v.merges.emplace_back(std::string(s.substr(0, sp)), std::string(s.substr(sp + 1)));
      } else if (x.is_array() && x.as_array().size() == 2 && x.as_array()[0].is_string() &&
                 x.as_array()[1].is_string()) {
        v.merges.emplace_back(std::string(x.as_array()[0].as_string()),
                              std::string(x.as_array()[1].as_string()));
      } else {
        return bad("model.merges holds an entry that is neither \"a b\" nor [\"a\", \"b\"]");
      }
    }
    auto flag = [&](const char* key) {
      const json::value* f = m.if_contains(key);
      return f && f->is_bool() && f->as_bool();
    };
    v.byte_fallback = flag("byte_fallback");
    v.fuse_unk = flag("fuse_unk");
    v.ignore_merges = flag("ignore_merges");
    return {};
  }

  Result<> added_tokens(const json::value* node) {
    if (!node || !node->is_array()) return {};
    for (const json::value& x : node->as_array()) {
      const json::object* o = x.if_object();
      if (!o || !o->contains("id") || !o->contains("content") || !o->at("id").is_int64() ||
          !o->at("content").is_string())
        return bad("added_tokens holds an entry without an integer id and a string content");
      auto flag = [&](const char* key) {
        const json::value* f = o->if_contains(key);
        return f && f->is_bool() && f->as_bool();
      };
      AddedToken a{.id = static_cast<TokenId>(o->at("id").as_int64()),
                   .content = std::string(o->at("content").as_string()),
                   .special = flag("special"),
                   .lstrip = flag("lstrip"),
                   .rstrip = flag("rstrip"),
                   .single_word = flag("single_word"),
                   .normalized = flag("normalized")};
      if (a.id < 0) return bad("added token '" + a.content + "' has a negative id");
      if (static_cast<size_t>(a.id) >= v.tokens.size()) v.tokens.resize(a.id + 1);
      v.tokens[a.id] = a.content;
      v.added.push_back(std::move(a));
    }
    return {};
  }
};

std::optional<std::string> token_text(const json::value* v) {
  if (!v) return std::nullopt;
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_object() && v->as_object().contains("content") &&
      v->as_object().at("content").is_string())
    return std::string(v->as_object().at("content").as_string());
  return std::nullopt;
}

}  // namespace

Result<VocabData> vocab_from_hf_json(std::string_view tokenizer_json, std::string_view config_json,
                                     const std::string& name) {
  boost::system::error_code ec;
  const json::value root = json::parse(tokenizer_json, ec);
  if (ec || !root.is_object())
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      name + ": not valid JSON (" + ec.message() + "); is it a tokenizer.json?");
  const json::object& o = root.as_object();
  Loader l{name, {}};
  const json::value* model = o.if_contains("model");
  if (!model || !model->is_object()) return l.bad("no 'model' object; is it a tokenizer.json?");
  if (Result<> r = l.model(model->as_object()); !r) return r.error();
  if (Result<> r = l.added_tokens(o.if_contains("added_tokens")); !r) return r.error();
  if (const json::value* n = o.if_contains("normalizer"); n && !n->is_null())
    if (Result<> r = l.normalizer(*n); !r) return r.error();
  l.v.pre = PreTokenizer::none;
  if (const json::value* p = o.if_contains("pre_tokenizer"); p && !p->is_null()) {
    if (Result<> r = l.pre_tokenizer(*p); !r) return r.error();
  }
  VocabData& v = l.v;
  if (l.byte_level == l.metaspace)
    return l.bad(
        "cannot tell byte-level BPE from SentencePiece BPE (expected a ByteLevel "
        "pre-tokenizer or U+2581 space handling)");
  v.model = l.byte_level ? ModelKind::byte_level_bpe : ModelKind::sentencepiece_bpe;
  if (v.model == ModelKind::sentencepiece_bpe && v.pre != PreTokenizer::none)
    return l.bad("SentencePiece BPE with a Split pre-tokenizer is not supported");
  for (const std::string& t : v.tokens)
    if (t.empty())
      return l.bad("the vocabulary has gaps: some ids below the largest have no token");
  v.kinds.assign(v.tokens.size(), TokenKind::normal);
  for (size_t i = 0; i < v.tokens.size(); ++i)
    if (v.tokens[i].size() == 6 && v.tokens[i].starts_with("<0x") && v.tokens[i].ends_with(">"))
      v.kinds[i] = TokenKind::byte;
  for (const AddedToken& a : v.added)
    v.kinds[a.id] = a.special ? TokenKind::control : TokenKind::user_defined;
  if (const auto unk = token_text(model->as_object().if_contains("unk_token"))) {
    v.unk = l.find(*unk);
    if (v.unk) v.kinds[*v.unk] = TokenKind::unknown;
  }
  if (const json::value* p = o.if_contains("post_processor"); p && !p->is_null())
    l.post_processor(*p);

  if (!config_json.empty()) {
    const json::value cfg = json::parse(config_json, ec);
    if (ec || !cfg.is_object())
      return make_error(
          BITNET_STATUS_INVALID_ARGUMENT,
          name + ": the tokenizer_config.json beside it is not valid JSON (" + ec.message() + ")");
    const json::object& c = cfg.as_object();
    if (const auto bos = token_text(c.if_contains("bos_token")))
      if (const auto id = l.find(*bos)) v.bos = id;
    if (const auto eos = token_text(c.if_contains("eos_token")))
      if (const auto id = l.find(*eos)) v.eos = id;
    if (const auto pad = token_text(c.if_contains("pad_token")))
      if (const auto id = l.find(*pad)) v.pad = id;
    if (const json::value* t = c.if_contains("chat_template")) {
      if (t->is_string()) {
        v.chat_template = std::string(t->as_string());
      } else if (t->is_array()) {
        for (const json::value& e : t->as_array())
          if (e.is_object() && e.as_object().contains("name") &&
              e.as_object().at("name") == "default" && e.as_object().contains("template") &&
              e.as_object().at("template").is_string())
            v.chat_template = std::string(e.as_object().at("template").as_string());
      }
    }
  }
  for (const char* eot : {"<|eot_id|>", "<|im_end|>", "<|end|>"})
    if (const auto id = l.find(eot)) {
      v.eot = id;
      break;
    }
  return std::move(l.v);
}

Result<VocabData> vocab_from_hf_file(const std::filesystem::path& path) {
  auto slurp = [](const std::filesystem::path& p, std::string& out) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    out = std::move(ss).str();
    return true;
  };
  std::string text, config;
  if (!slurp(path, text))
    return make_error(
        BITNET_STATUS_NOT_FOUND,
        path.string() + ": cannot read the tokenizer file (" + std::strerror(errno) + ")");
  const auto config_path = path.parent_path() / "tokenizer_config.json";
  std::error_code ec;
  if (std::filesystem::is_regular_file(config_path, ec)) slurp(config_path, config);
  return vocab_from_hf_json(text, config, path.string());
}

}  // namespace bitnet::tok

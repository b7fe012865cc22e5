#include "checks.hpp"

#include <boost/json.hpp>

#include <fstream>
#include <sstream>

namespace bitnet_sources {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::optional<json::value> parse_file(const fs::path& file, std::string& problem) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    problem = "cannot read " + file.string();
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  json::value v = json::parse(text.str(), ec);
  if (ec) {
    problem = "not valid JSON (" + ec.message() + ")";
    return std::nullopt;
  }
  return v;
}

void count_ids(const json::value& ids, int64_t& top) {
  if (const json::object* o = ids.if_object()) {
    for (const auto& kv : *o)
      if (kv.value().is_int64()) top = std::max(top, kv.value().as_int64() + 1);
  } else if (const json::array* a = ids.if_array()) {
    // Unigram vocabularies are [piece, score] pairs whose ids are their positions.
    top = std::max(top, static_cast<int64_t>(a->size()));
  }
}

}  // namespace

VocabCount count_tokenizer_json(const fs::path& file) {
  VocabCount c;
  std::optional<json::value> v = parse_file(file, c.problem);
  if (!v) return c;
  const json::object* root = v->if_object();
  const json::value* model = root ? root->if_contains("model") : nullptr;
  const json::value* vocab =
      model && model->is_object() ? model->as_object().if_contains("vocab") : nullptr;
  if (!vocab) {
    c.problem = "not a tokenizer.json (no model.vocab)";
    return c;
  }
  count_ids(*vocab, c.tokens);
  if (const json::value* added = root->if_contains("added_tokens"); added && added->is_array())
    for (const json::value& t : added->as_array())
      if (const json::value* id = t.is_object() ? t.as_object().if_contains("id") : nullptr;
          id && id->is_int64())
        c.tokens = std::max(c.tokens, id->as_int64() + 1);
  return c;
}

std::optional<std::string> check_file(const fs::path& file, const std::string& name,
                                      int64_t n_vocab) {
  const std::string base = fs::path(name).filename().string();
  if (base == "tokenizer.json") {
    const VocabCount c = count_tokenizer_json(file);
    if (!c.problem.empty()) return c.problem;
    if (n_vocab > 0 && c.tokens > n_vocab)
      return "it has " + std::to_string(c.tokens) + " tokens but the model's embedding has " +
             std::to_string(n_vocab) + " rows: another model's tokenizer";
    return std::nullopt;
  }
  if (fs::path(base).extension() == ".json") {
    std::string problem;
    std::optional<json::value> v = parse_file(file, problem);
    if (!v) return problem;
    if (!v->is_object()) return "not a JSON object";
    return std::nullopt;
  }
  if (fs::path(base).extension() == ".gguf") {
    std::ifstream in(file, std::ios::binary);
    char magic[4] = {};
    if (!in.read(magic, 4) || std::string(magic, 4) != "GGUF") return "not a GGUF file (no magic)";
  }
  return std::nullopt;
}

}  // namespace bitnet_sources

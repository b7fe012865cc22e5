#include <bitnet/runtime/log.hpp>
#include <bitnet/runtime/tokenizer/load.hpp>
#include <bitnet/runtime/tokenizer_source/chain.hpp>
#include <bitnet/runtime/tokenizer_source/known.hpp>

#include "steps.hpp"

namespace bitnet::tokenizer_source {

namespace fs = std::filesystem;

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::found:
      return "found";
    case Outcome::miss:
      return "miss";
    case Outcome::error:
      return "error";
    case Outcome::skipped:
      return "skipped";
    case Outcome::not_asked:
      return "not asked";
  }
  return "unknown";
}

ModelFacts model_facts(const gguf::Reader& r, const fs::path& path) {
  ModelFacts m;
  m.path = path;
  if (const gguf::Value* a = r.find("general.architecture"); a && a->as_string())
    m.architecture = *a->as_string();
  if (const gguf::TensorInfo* t = r.tensor("token_embd.weight"); t && t->n_dims == 2)
    m.n_vocab = t->ne[1];
  else if (const gguf::Value* v = r.find(m.architecture + ".vocab_size"); v && v->as_int())
    m.n_vocab = *v->as_int();
  if (const gguf::Value* t = r.find("tokenizer.ggml.tokens"); t && t->as_array())
    m.embedded_tokens = static_cast<int64_t>(t->as_array()->items.size());
  if (const gguf::Value* repo = r.find("general.source.huggingface.repository");
      repo && repo->as_string())
    m.repo_id = *repo->as_string();
  return m;
}

Discovery discover(const plugins::PluginHost& host, const SourcesConfig& config,
                   const ModelFacts& model, const DiscoverOptions& options) {
  Discovery d;
  const KnownTokenizer* known = find_known_tokenizer(model.architecture, model.n_vocab);
  if (known) d.cache_key = known->cache_key;
  detail::OwnedQuery q;
  q.model_path = model.path.string();
  q.explicit_path = options.explicit_path.string();
  q.repo_id = !model.repo_id.empty() ? model.repo_id : known ? std::string(known->repo) : "";
  q.revision = options.revision;
  q.cache_dir = config.cache_dir.string();
  q.allow_network = options.allow_network && !config.offline;
  q.architecture = model.architecture;
  q.n_vocab = model.n_vocab;
  q.embedded_tokens = model.embedded_tokens;
  q.cache_key = d.cache_key;
  const detail::RunRules rules{config.strict, config.offline, options.ask_every_step,
                               config.strict && !options.explicit_path.empty()};
  detail::run_steps(host, config, detail::expand(config, config.order, q.explicit_path, false), q,
                    rules, d.found, d.attempts);
  return d;
}

std::string describe_attempts(const Discovery& d) {
  std::string out;
  for (const Attempt& a : d.attempts) {
    out.append("  ").append(a.step);
    if (!a.plugin.empty()) out.append(" (").append(a.plugin).append(")");
    out.append(": ").append(outcome_name(a.outcome)).append(": ").append(a.detail).append("\n");
  }
  return out;
}

Result<tok::Tokenizer> load_found(const FoundTokenizer& found, const ModelFacts& model, bool strict,
                                  const gguf::Reader* model_reader) {
  Result<tok::VocabData> v = [&]() -> Result<tok::VocabData> {
    switch (found.format) {
      case BITNET_TOKENIZER_FORMAT_GGUF: {
        std::error_code ec;
        if (model_reader && fs::equivalent(found.path, model.path, ec))
          return tok::vocab_from_gguf(*model_reader);
        Result<gguf::Reader> r = gguf::Reader::open(found.path);
        if (!r) return r.error();
        return tok::vocab_from_gguf(*r);
      }
      case BITNET_TOKENIZER_FORMAT_HF_JSON:
        return tok::vocab_from_hf_file(found.path);
      default:
        return make_error(BITNET_STATUS_UNSUPPORTED,
                          found.path.string() +
                              " is a SentencePiece tokenizer.model, which this runtime does not "
                              "read; put the model's tokenizer.json beside it instead");
    }
  }();
  if (!v) return v.error();
  const auto n = static_cast<int64_t>(v->tokens.size());
  if (model.n_vocab > 0 && n > model.n_vocab) {
    const std::string msg =
        found.origin + " has " + std::to_string(n) + " tokens but the model's embedding has only " +
        std::to_string(model.n_vocab) + " rows: it is another model's tokenizer";
    if (strict)
      return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                        msg + " (BITNET_STRICT_TOKENIZERS=1 refuses it)");
    log::warn("tokenizer", msg, "; using it because BITNET_STRICT_TOKENIZERS is not set");
  }
  return tok::Tokenizer::create(std::move(*v));
}

Result<tok::Tokenizer> find_tokenizer(const plugins::PluginHost& host, const SourcesConfig& config,
                                      const ModelFacts& model, const DiscoverOptions& options,
                                      const gguf::Reader* model_reader) {
  const Discovery d = discover(host, config, model, options);
  if (!d.found)
    return make_error(BITNET_STATUS_NOT_FOUND,
                      "no tokenizer for " + model.path.string() + "; the sources tried:\n" +
                          describe_attempts(d) +
                          "give one with --tokenizer, or fetch it with `bitnet tokenizer fetch "
                          "--model " +
                          model.path.string() + "`");
  return load_found(*d.found, model, config.strict, model_reader);
}

}  // namespace bitnet::tokenizer_source

#include <bitnet/runtime/log.hpp>
#include <bitnet/runtime/tokenizer/load.hpp>
#include <bitnet/runtime/tokenizer_source/chain.hpp>
#include <bitnet/runtime/tokenizer_source/known.hpp>

#include <boost/json.hpp>

#include <memory>

namespace bitnet::tokenizer_source {
namespace {

namespace fs = std::filesystem;

// One step of the chain: its name, the plugin that serves it and that plugin's config.
struct Step {
  std::string name, plugin, config;
};

std::vector<Step> expand(const SourcesConfig& c) {
  std::vector<Step> steps;
  auto fs_step = [&](const std::string& mode) {
    boost::json::object cfg{{"mode", mode}};
    if (mode == "dirs") {
      boost::json::array dirs;
      for (const std::string& d : c.dirs)
        dirs.emplace_back(d);
      cfg["dirs"] = std::move(dirs);
    }
    return boost::json::serialize(cfg);
  };
  for (const std::string& s : c.order) {
    if (s == "explicit" || s == "sibling" || s == "parent" || s == "dirs")
      steps.push_back({s, "filesystem", fs_step(s)});
    else if (s == "embedded")
      steps.push_back({s, "embedded-gguf", "{}"});
    else if (s == "cache")
      steps.push_back({s, "", ""});  // the host's own cache, no plugin
    else if (s == "mirrors")
      for (const MirrorConfig& m : c.mirrors)
        steps.push_back({"mirror:" + m.name, "mirror", m.json});
    else if (s == "hub")
      steps.push_back({s, "hf-hub", c.hub_json});
  }
  return steps;
}

bool needs_network(const Step& s) {
  return s.plugin == "mirror" || s.plugin == "hf-hub";
}

// The cache keeps one folder per known tokenizer: <cache_dir>/tokenizers/<key>/tokenizer.json.
std::optional<FoundTokenizer> from_cache(const SourcesConfig& c, const std::string& key,
                                         std::string& note) {
  if (key.empty()) {
    note = "the model maps to no known tokenizer, so there is no cache key";
    return std::nullopt;
  }
  const fs::path dir = c.cache_dir / "tokenizers" / key;
  std::error_code ec;
  if (!fs::is_regular_file(dir / "tokenizer.json", ec)) {
    note = "no " + (dir / "tokenizer.json").string();
    return std::nullopt;
  }
  FoundTokenizer f{"cache",
                   BITNET_TOKENIZER_FORMAT_HF_JSON,
                   dir / "tokenizer.json",
                   {},
                   "the cache (" + key + ")"};
  if (fs::is_regular_file(dir / "tokenizer_config.json", ec))
    f.config_path = dir / "tokenizer_config.json";
  return f;
}

std::string status_text(const bitnet_source_api* api, bitnet_status* s) {
  std::string m = api->status_message(s);
  api->status_destroy(s);
  return m;
}

// Asks one plugin step; the source instance lives only for the call.
Attempt ask(const plugins::PluginRecord& rec, const Step& step, const bitnet_source_query& q,
            std::optional<FoundTokenizer>& found) {
  Attempt a{step.name, step.plugin, Outcome::miss, {}};
  const bitnet_source_api* api = rec.source;
  bitnet_source_create_args create{sizeof(create), step.config.c_str(), nullptr};
  if (bitnet_status* s = api->source_create(&create)) {
    a.outcome = Outcome::error;
    a.detail = "the plugin refused its settings: " + status_text(api, s);
    return a;
  }
  std::unique_ptr<bitnet_source, void (*)(bitnet_source*)> source(create.source,
                                                                  api->source_destroy);
  bitnet_source_resolve_args args{sizeof(args), source.get(), &q, nullptr, {}};
  if (bitnet_status* s = api->resolve(&args)) {
    a.outcome = Outcome::error;
    a.detail = status_text(api, s);
    return a;
  }
  if (!args.result) {
    a.detail = args.note[0] ? args.note : "nothing found";
    return a;
  }
  const bitnet_source_result& r = *args.result;
  found = FoundTokenizer{step.name, r.format, r.path ? r.path : "",
                         r.config_path ? r.config_path : "", r.origin ? r.origin : ""};
  api->result_destroy(args.result);
  a.outcome = Outcome::found;
  a.detail = found->origin;
  return a;
}

const plugins::PluginRecord* plugin_named(const plugins::PluginHost& host,
                                          const std::string& name) {
  for (const plugins::PluginRecord* r : host.ranked(BITNET_PLUGIN_KIND_TOKENIZER_SOURCE))
    if (r->name == name) return r;
  return nullptr;
}

}  // namespace

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
  const std::string model_path = model.path.string(),
                    explicit_path = options.explicit_path.string();
  const std::string repo = !model.repo_id.empty() ? model.repo_id
                           : known                ? std::string(known->repo)
                                                  : std::string();
  const std::string cache_dir = config.cache_dir.string();
  bitnet_source_query q{};
  q.struct_size = sizeof(q);
  q.model_path = model_path.empty() ? nullptr : model_path.c_str();
  q.explicit_path = explicit_path.empty() ? nullptr : explicit_path.c_str();
  q.repo_id = repo.empty() ? nullptr : repo.c_str();
  q.revision = options.revision.c_str();
  q.cache_dir = cache_dir.c_str();
  q.allow_network = options.allow_network && !config.offline;
  q.architecture = model.architecture.c_str();
  q.n_vocab = model.n_vocab;
  q.embedded_tokens = model.embedded_tokens;
  q.cache_key = d.cache_key.empty() ? nullptr : d.cache_key.c_str();

  // In strict mode an explicit tokenizer is the only one considered: nothing stands in for it.
  const bool explicit_only = config.strict && !options.explicit_path.empty();
  // Settled: a step found the tokenizer, or failed in a way that ends the search. Later steps
  // are only asked for `where` (ask_every_step) and never change the answer.
  bool settled = false;
  for (const Step& step : expand(config)) {
    Attempt a{step.name, step.plugin, Outcome::miss, {}};
    std::optional<FoundTokenizer> f;
    if ((settled && !options.ask_every_step) || (explicit_only && step.name != "explicit")) {
      a.outcome = Outcome::not_asked;
      a.detail = explicit_only ? "strict mode: only the explicit --tokenizer is considered"
                               : "an earlier step settled it";
    } else if (needs_network(step) && !q.allow_network) {
      a.outcome = Outcome::skipped;
      a.detail = config.offline ? "offline (BITNET_OFFLINE or HF_HUB_OFFLINE is set)"
                                : "needs the network: pass --auto-download or run `bitnet "
                                  "tokenizer fetch`";
    } else if (step.plugin.empty()) {
      f = from_cache(config, d.cache_key, a.detail);
      if (f) {
        a.outcome = Outcome::found;
        a.detail = f->origin;
      }
    } else if (const plugins::PluginRecord* rec = plugin_named(host, step.plugin); !rec) {
      a.outcome = Outcome::skipped;
      a.detail = "the " + step.plugin + " plugin is not installed (see `bitnet plugins`)";
    } else {
      a = ask(*rec, step, q, f);
    }
    log::debug("tokenizer", step.name, ": ", outcome_name(a.outcome), ": ", a.detail);
    if (!settled) {
      if (f) d.found = std::move(f);
      // A wrong explicit --tokenizer always ends the search: the user meant that file.
      settled =
          d.found || (a.outcome == Outcome::error && (config.strict || step.name == "explicit"));
    }
    d.attempts.push_back(std::move(a));
  }
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

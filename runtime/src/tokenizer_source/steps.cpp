#include "steps.hpp"

#include <bitnet/runtime/log.hpp>

#include <boost/json.hpp>

#include <memory>

namespace bitnet::tokenizer_source::detail {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

bool needs_network(const Step& s) {
  return s.plugin == "mirror" || s.plugin == "hf-hub";
}

// A plugin's settings with keys the host sets for one call added.
std::string with_keys(const std::string& config, const json::object& extra) {
  if (extra.empty()) return config;
  boost::system::error_code ec;
  json::value v = json::parse(config, ec);
  if (ec || !v.is_object()) return config;  // the plugin reports bad settings itself
  for (const auto& kv : extra)
    v.as_object()[kv.key()] = kv.value();
  return json::serialize(v);
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

bool is_url(const std::string& path) {
  return path.starts_with("https://") || path.starts_with("http://");
}

std::vector<Step> expand(const SourcesConfig& c, const std::vector<std::string>& order,
                         const std::string& explicit_path, bool force) {
  std::vector<Step> steps;
  const json::object network_keys = force ? json::object{{"force", true}} : json::object{};
  auto fs_step = [&](const std::string& mode) {
    json::object cfg{{"mode", mode}};
    if (mode == "dirs") {
      json::array dirs;
      for (const std::string& d : c.dirs)
        dirs.emplace_back(d);
      cfg["dirs"] = std::move(dirs);
    }
    return json::serialize(cfg);
  };
  for (const std::string& s : order) {
    if (s == "explicit" && is_url(explicit_path)) {
      json::object keys = network_keys;
      keys["explicit_url"] = true;
      steps.push_back({s, "hf-hub", with_keys(c.hub_json, keys), true});
    } else if (s == "explicit" || s == "sibling" || s == "parent" || s == "dirs") {
      steps.push_back({s, "filesystem", fs_step(s)});
    } else if (s == "embedded") {
      steps.push_back({s, "embedded-gguf", "{}"});
    } else if (s == "cache") {
      steps.push_back({s, "", ""});
    } else if (s == "mirrors") {
      for (const MirrorConfig& m : c.mirrors)
        steps.push_back({"mirror:" + m.name, "mirror", with_keys(m.json, network_keys)});
    } else if (s == "hub") {
      steps.push_back({s, "hf-hub", with_keys(c.hub_json, network_keys)});
    }
  }
  return steps;
}

bitnet_source_query OwnedQuery::view() const {
  auto opt = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
  bitnet_source_query q{};
  q.struct_size = sizeof(q);
  q.model_path = opt(model_path);
  q.explicit_path = opt(explicit_path);
  q.repo_id = opt(repo_id);
  q.revision = opt(revision);
  q.cache_dir = cache_dir.c_str();
  q.allow_network = allow_network;
  q.architecture = architecture.c_str();
  q.n_vocab = n_vocab;
  q.embedded_tokens = embedded_tokens;
  q.cache_key = opt(cache_key);
  q.file = opt(file);
  return q;
}

void run_steps(const plugins::PluginHost& host, const SourcesConfig& config,
               const std::vector<Step>& steps, const OwnedQuery& query, const RunRules& rules,
               std::optional<FoundTokenizer>& found, std::vector<Attempt>& attempts) {
  // Settled: a step found the tokenizer, or failed in a way that ends the search. Later steps
  // are only asked for `where` (ask_every_step) and never change the answer.
  bool settled = false;
  for (const Step& step : steps) {
    Attempt a{step.name, step.plugin, Outcome::miss, {}};
    std::optional<FoundTokenizer> f;
    bitnet_source_query q = query.view();
    if (step.explicit_download) q.allow_network = !rules.offline;
    if ((settled && !rules.ask_every_step) || (rules.explicit_only && step.name != "explicit")) {
      a.outcome = Outcome::not_asked;
      a.detail = rules.explicit_only ? "strict mode: only the explicit --tokenizer is considered"
                                     : "an earlier step settled it";
    } else if (step.plugin.empty()) {
      f = from_cache(config, query.cache_key, a.detail);
      if (f) {
        a.outcome = Outcome::found;
        a.detail = f->origin;
      }
    } else if (const plugins::PluginRecord* rec = plugin_named(host, step.plugin); !rec) {
      a.outcome = Outcome::skipped;
      a.detail = "the " + step.plugin + " plugin is not installed (see `bitnet plugins`)";
    } else {
      // Without the network a remote source still answers from what is on disk (the HF
      // cache, earlier downloads); its note then says why it did not download.
      a = ask(*rec, step, q, f);
      if (a.outcome == Outcome::miss && needs_network(step) && !q.allow_network)
        a.detail += rules.offline        ? "; offline (BITNET_OFFLINE or HF_HUB_OFFLINE is set)"
                    : query.file.empty() ? "; downloading needs --auto-download (or `bitnet "
                                           "tokenizer fetch`)"
                                         : "; downloading needs `bitnet pull` (or --auto-download)";
    }
    log::debug("tokenizer", step.name, ": ", outcome_name(a.outcome), ": ", a.detail);
    if (!settled) {
      if (f) found = std::move(f);
      settled = found || (a.outcome == Outcome::error && (rules.strict || step.name == "explicit"));
    }
    attempts.push_back(std::move(a));
  }
}

}  // namespace bitnet::tokenizer_source::detail

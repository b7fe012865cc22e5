// The discovery chain through the real embedded-gguf and filesystem plugins: which step wins in
// which layout, strict and offline rules, the config file's errors, the vocabulary check, and
// `bitnet tokenizer where`.
#include <bitnet/runtime/gguf/writer.hpp>
#include <bitnet/runtime/tokenizer_source/chain.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

#include "cli_runner.hpp"
#include "random_model.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;
namespace ts = bitnet::tokenizer_source;
using namespace bitnet_test;

namespace {

struct Layout {
  fs::path root = fs::temp_directory_path() / "bitnet-sources-test";
  fs::path models = root / "models", model_dir = models / "m", cache = root / "cache";
  fs::path hf_home = root / "hf";
  // The hub reads the HF cache under HF_HOME: the user's own must not answer for the tests.
  Layout() {
    fs::remove_all(root);
    fs::create_directories(model_dir);
    ::setenv("HF_HOME", hf_home.c_str(), 1);
    ::unsetenv("HF_HUB_CACHE");
  }
  ~Layout() { fs::remove_all(root); }
};

// A model without an embedded tokenizer whose vocabulary size is `n_vocab` (no tensors: the
// chain reads only metadata).
fs::path bare_model(const fs::path& path, const std::string& arch, uint64_t n_vocab) {
  bitnet::gguf::Writer w;
  w.set("general.architecture", bitnet::gguf::Value::string(arch));
  w.set(arch + ".vocab_size", bitnet::gguf::Value::of(bitnet::gguf::ValueType::u32, n_vocab));
  BOOST_REQUIRE(w.write(path));
  return path;
}

void put_tokenizer(const fs::path& dir, const std::string& text = "{}") {
  fs::create_directories(dir);
  std::ofstream(dir / "tokenizer.json") << text;
}

ts::ModelFacts facts(const fs::path& model) {
  auto r = bitnet::gguf::Reader::open(model);
  BOOST_REQUIRE(r.has_value());
  return ts::model_facts(*r, model);
}

ts::SourcesConfig config(const Layout& l, std::string text = "{}") {
  auto c = ts::parse_sources_config(text, l.root / "config.json");
  BOOST_REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error().message));
  c->cache_dir = l.cache;
  c->strict = c->offline = false;
  return *c;
}

const bitnet::plugins::PluginHost& host() {
  static const auto h =
      bitnet::plugins::PluginHost::scan({.search_paths = {BITNET_BUILT_PLUGIN_DIR}});
  return h;
}

const ts::Attempt& step(const ts::Discovery& d, const std::string& name) {
  for (const ts::Attempt& a : d.attempts)
    if (a.step == name) return a;
  BOOST_FAIL("no step " << name);
  return d.attempts.front();
}

std::string winner(const ts::Discovery& d) {
  return d.found ? d.found->step : "none";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tokenizer_sources)

BOOST_AUTO_TEST_CASE(each_step_wins_in_its_layout) {
  Layout l;
  const fs::path model = bare_model(l.model_dir / "m.gguf", "llama", 32000);
  const ts::ModelFacts f = facts(model);
  BOOST_TEST(f.n_vocab == 32000);
  ts::SourcesConfig c =
      config(l, R"({"tokenizer_sources": {"dirs": [")" + (l.root / "shared").string() + R"("]}})");
  auto run = [&](const fs::path& explicit_path = {}) {
    return ts::discover(host(), c, f, {.explicit_path = explicit_path});
  };

  ts::Discovery d = run();
  BOOST_TEST(winner(d) == "none");
  BOOST_TEST(d.cache_key == "llama2-32k");
  BOOST_TEST(step(d, "embedded").detail == "the model carries no tokenizer.ggml.tokens");
  BOOST_TEST(ts::outcome_name(step(d, "hub").outcome) == ts::outcome_name(ts::Outcome::miss));
  BOOST_TEST(step(d, "hub").detail.find("downloading needs --auto-download") != std::string::npos,
             step(d, "hub").detail);

  put_tokenizer(l.cache / "tokenizers" / "llama2-32k");
  BOOST_TEST(winner(run()) == "cache");
  put_tokenizer(l.root / "shared" / "llama2-32k");
  BOOST_TEST(winner(run()) == "dirs");
  put_tokenizer(l.models);
  BOOST_TEST(winner(d = run()) == "parent");
  BOOST_TEST(d.found->path == fs::weakly_canonical(l.models / "tokenizer.json"));
  put_tokenizer(l.model_dir);
  std::ofstream(l.model_dir / "tokenizer_config.json") << "{}";
  BOOST_TEST(winner(d = run()) == "sibling");
  BOOST_TEST(d.found->config_path == fs::weakly_canonical(l.model_dir / "tokenizer_config.json"));
  BOOST_TEST(ts::outcome_name(step(d, "cache").outcome) ==
             ts::outcome_name(ts::Outcome::not_asked));
  put_tokenizer(l.root / "explicit");
  BOOST_TEST(winner(d = run(l.root / "explicit")) == "explicit");  // a folder holding one

  // The embedded tokenizer beats every file but an explicit one.
  auto w = bitnet::testing::random_model({.arch = "llama"});
  BOOST_REQUIRE(w->write(l.model_dir / "embedded.gguf"));
  const ts::ModelFacts e = facts(l.model_dir / "embedded.gguf");
  BOOST_TEST(winner(ts::discover(host(), c, e, {})) == "embedded");

  // The order is the config's.
  c.order = {"cache", "sibling"};
  d = run();
  BOOST_TEST(winner(d) == "cache");
  BOOST_TEST(d.attempts.size() == 2u);
}

BOOST_AUTO_TEST_CASE(strict_and_offline_rules) {
  Layout l;
  const fs::path model = bare_model(l.model_dir / "m.gguf", "llama", 32000);
  const ts::ModelFacts f = facts(model);
  put_tokenizer(l.model_dir);
  ts::SourcesConfig c = config(l);

  // A wrong --tokenizer ends the search in every mode: nothing stands in for it.
  ts::Discovery d = ts::discover(host(), c, f, {.explicit_path = l.root / "missing.json"});
  BOOST_TEST(winner(d) == "none");
  BOOST_TEST(ts::outcome_name(step(d, "explicit").outcome) == ts::outcome_name(ts::Outcome::error));
  BOOST_TEST(step(d, "explicit").detail.find("missing.json does not exist") != std::string::npos);
  BOOST_TEST(ts::outcome_name(step(d, "sibling").outcome) ==
             ts::outcome_name(ts::Outcome::not_asked));

  // Strict: an explicit tokenizer is the only one considered.
  c.strict = true;
  put_tokenizer(l.root / "x");
  d = ts::discover(host(), c, f, {.explicit_path = l.root / "x" / "tokenizer.json"});
  BOOST_TEST(winner(d) == "explicit");
  BOOST_TEST(step(d, "sibling").detail ==
             "strict mode: only the explicit --tokenizer is considered");

  // Network steps: offline, they answer from disk only, even with --auto-download.
  c.strict = false;
  c.order = {"hub"};
  c.offline = true;
  const ts::Discovery off = ts::discover(host(), c, f, {.allow_network = true});
  BOOST_TEST(ts::outcome_name(step(off, "hub").outcome) == ts::outcome_name(ts::Outcome::miss));
  BOOST_TEST(
      step(off, "hub").detail.ends_with("; offline (BITNET_OFFLINE or HF_HUB_OFFLINE is set)"),
      step(off, "hub").detail);
  c.offline = false;

  // Nothing found: the error lists every step and what to do.
  c.order = {"embedded", "parent"};
  auto t = ts::find_tokenizer(host(), c, f, {});
  BOOST_REQUIRE(!t.has_value());
  const std::string& m = t.error().message;
  BOOST_TEST(m.find("embedded (embedded-gguf): miss: the model carries no") != std::string::npos,
             m);
  BOOST_TEST(m.find("parent (filesystem): miss: no tokenizer.json") != std::string::npos, m);
  BOOST_TEST(m.find("bitnet tokenizer fetch") != std::string::npos, m);
}

BOOST_AUTO_TEST_CASE(vocabulary_mismatch_is_an_error_only_in_strict_mode) {
  Layout l;
  // The llama model's embedded SentencePiece vocabulary has a few hundred tokens; a model that
  // claims 100 rows cannot use it.
  auto w = bitnet::testing::random_model({.arch = "llama"});
  BOOST_REQUIRE(w->write(l.model_dir / "m.gguf"));
  ts::ModelFacts f = facts(l.model_dir / "m.gguf");
  const ts::Discovery d = ts::discover(host(), config(l), f, {});
  BOOST_REQUIRE(d.found);
  BOOST_TEST(ts::load_found(*d.found, f, true).has_value());
  f.n_vocab = 100;
  auto strict = ts::load_found(*d.found, f, true);
  BOOST_REQUIRE(!strict.has_value());
  BOOST_TEST(strict.error().message.find("but the model's embedding has only 100 rows") !=
             std::string::npos);
  BOOST_TEST(ts::load_found(*d.found, f, false).has_value());
  // The model already open serves its own tokenizer, with the same check.
  auto open_model = bitnet::gguf::Reader::open(l.model_dir / "m.gguf");
  BOOST_REQUIRE(open_model.has_value());
  BOOST_TEST(!ts::load_found(*d.found, f, true, &*open_model).has_value());
  f.n_vocab = 0;
  auto t = ts::load_found(*d.found, f, true, &*open_model);
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST(t->size() == static_cast<size_t>(facts(l.model_dir / "m.gguf").embedded_tokens));
}

BOOST_AUTO_TEST_CASE(config_errors_name_the_file_and_the_fix) {
  const fs::path file = "/etc/bitnet.json";
  const std::pair<const char*, const char*> cases[] = {
      {"{", "/etc/bitnet.json: not valid JSON"},
      {"[]", "the top level must be a JSON object"},
      {R"({"tokenizer_sources": {"order": ["sibling", "web"]}})",
       "\"order\" names 'web'; the steps are explicit, embedded"},
      {R"({"tokenizer_sources": {"dirs": "/opt"}})", "\"dirs\" must be a list of strings"},
      {R"({"tokenizer_sources": {"mirrors": [{"priority": 1}]}})",
       "each entry of \"mirrors\" needs a \"name\""},
      {R"({"tokenizer_sources": {"mirrors": [{"name": "corp"}, {"name": "corp"}]}})",
       "two mirrors are named 'corp'"},
  };
  for (const auto& [text, expected] : cases) {
    auto c = ts::parse_sources_config(text, file);
    BOOST_REQUIRE_MESSAGE(!c.has_value(), text);
    BOOST_TEST(c.error().message.find(expected) != std::string::npos, c.error().message);
  }
  auto ok = ts::parse_sources_config(
      R"({"tokenizer_sources": {"mirrors": [{"name": "a", "priority": 1}, {"name": "b", "priority": 5}]}})",
      file);
  BOOST_REQUIRE(ok.has_value());
  BOOST_TEST(ok->mirrors.at(0).name == "b");  // highest priority first
}

BOOST_AUTO_TEST_CASE(cli_where) {
  Layout l;
  const fs::path model = bare_model(l.model_dir / "m.gguf", "qwen2", 151936);
  const std::string env = "BITNET_CACHE_DIR='" + l.cache.string() + "' BITNET_CONFIG='" +
                          (l.root / "config.json").string() + "'";
  std::ofstream(l.root / "config.json") << "{}";
  Run none = run_cli("tokenizer where '" + model.string() + "'", env);
  BOOST_TEST(none.exit_code == 1);
  BOOST_TEST(none.out.find("tokenizer: none found") != std::string::npos, none.out);
  BOOST_TEST(none.out.find("known tokenizer qwen2.5-152k") != std::string::npos, none.out);

  put_tokenizer(l.cache / "tokenizers" / "qwen2.5-152k");
  Run found = run_cli("tokenizer where --json '" + model.string() + "'", env);
  BOOST_TEST(found.exit_code == 0, found.out);
  const json::object j = json::parse(found.out).as_object();
  BOOST_TEST(j.at("winner").at("step").as_string() == "cache");
  BOOST_TEST(j.at("steps").as_array().size() == ts::default_order().size() - 1);  // no mirrors

  Run bad = run_cli("tokenizer where '" + model.string() + "'",
                    "BITNET_CONFIG='" + (l.root / "absent.json").string() + "'");
  BOOST_TEST(bad.exit_code == 1);
  BOOST_TEST(bad.out.find("absent.json, which cannot be read; fix the path or unset "
                          "BITNET_CONFIG") != std::string::npos,
             bad.out);
  BOOST_TEST(run_cli("tokenizer fetch").exit_code == 2);
}

BOOST_AUTO_TEST_CASE(the_hub_reads_the_hf_cache_without_the_network) {
  Layout l;
  const fs::path model = bare_model(l.model_dir / "m.gguf", "llama", 32000);
  const ts::ModelFacts f = facts(model);
  ts::SourcesConfig c = config(l);
  c.order = {"cache", "hub"};
  // huggingface_hub's layout: refs/main names the commit whose snapshot holds the files.
  const fs::path repo = l.hf_home / "hub" / "models--NousResearch--Llama-2-7b-hf";
  const std::string commit = "0123456789abcdef0123456789abcdef01234567";
  put_tokenizer(repo / "snapshots" / commit);
  fs::create_directories(repo / "refs");
  std::ofstream(repo / "refs" / "main") << commit;

  ts::Discovery d = ts::discover(host(), c, f, {});
  BOOST_TEST(winner(d) == "hub");
  BOOST_TEST(d.found->path == repo / "snapshots" / commit / "tokenizer.json");
  BOOST_TEST(d.found->origin.find("the HF cache") == 0u, d.found->origin);
  c.offline = true;  // no network is needed for it
  BOOST_TEST(winner(ts::discover(host(), c, f, {})) == "hub");
  // A commit as the revision finds its snapshot directly; another branch is not there.
  BOOST_TEST(winner(ts::discover(host(), c, f, {.revision = commit})) == "hub");
  d = ts::discover(host(), c, f, {.revision = "dev"});
  BOOST_TEST(winner(d) == "none");
  BOOST_TEST(step(d, "hub").detail.find("not in the HF cache") == 0u, step(d, "hub").detail);
  // HF_HUB_CACHE moves the hub folder.
  ::setenv("HF_HUB_CACHE", (l.root / "elsewhere").c_str(), 1);
  BOOST_TEST(winner(ts::discover(host(), c, f, {})) == "none");
  ::unsetenv("HF_HUB_CACHE");
  // "hf_cache": false in the hub settings turns the reading off.
  c.hub_json = R"({"hf_cache": false})";
  BOOST_TEST(winner(ts::discover(host(), c, f, {})) == "none");
}

BOOST_AUTO_TEST_CASE(remote_settings_errors_name_the_source_and_key) {
  Layout l;
  const fs::path model = bare_model(l.model_dir / "m.gguf", "llama", 32000);
  const ts::ModelFacts f = facts(model);
  const std::pair<const char*, const char*> cases[] = {
      {R"({"tokenizer_sources": {"mirrors": [{"name": "corp", "base_url": "http://m.corp"}]}})",
       "mirror corp: \"base_url\" must be an https:// URL, got 'http://m.corp'"},
      {R"({"tokenizer_sources": {"mirrors": [{"name": "corp", "base_url": "https://m", "template": "{base}/{sha}"}]}})",
       "the template names {sha}"},
      {R"({"tokenizer_sources": {"hub": {"endpoint": "ftp://hub"}}})",
       "the endpoint ftp://hub is not an https:// URL"},
      {R"({"tokenizer_sources": {"hub": {"hf_cache": "yes"}}})",
       "\"hf_cache\" must be true or false"},
  };
  for (const auto& [text, expected] : cases) {
    ts::SourcesConfig c = config(l, text);
    c.order = {"mirrors", "hub"};
    const ts::Discovery d = ts::discover(host(), c, f, {});
    bool seen = false;
    for (const ts::Attempt& a : d.attempts)
      seen |= a.outcome == ts::Outcome::error && a.detail.find(expected) != std::string::npos;
    BOOST_TEST(seen, text << "\n" << ts::describe_attempts(d));
  }
  // A flat mirror serves known tokenizers by cache key; without network it says so.
  ts::SourcesConfig c = config(
      l,
      R"({"tokenizer_sources": {"mirrors": [{"name": "flat", "base_url": "https://m", "template": "flat"}]}})");
  c.order = {"mirrors"};
  ts::Discovery d = ts::discover(host(), c, f, {});
  BOOST_TEST(step(d, "mirror:flat")
                     .detail.find("tokenizer.json is not in the cache (" +
                                  (l.cache / "tokenizers" / "llama2-32k").string()) == 0u,
             step(d, "mirror:flat").detail);
  // An unknown model has no cache key: the flat mirror cannot name a URL for it.
  const ts::ModelFacts odd = facts(bare_model(l.model_dir / "odd.gguf", "llama", 777));
  d = ts::discover(host(), c, odd, {});
  BOOST_TEST(step(d, "mirror:flat").detail.find("needs {cache_key}") != std::string::npos,
             step(d, "mirror:flat").detail);
}

BOOST_AUTO_TEST_CASE(an_https_tokenizer_offline_is_refused_unless_cached) {
  Layout l;
  const fs::path model = bare_model(l.model_dir / "m.gguf", "llama", 32000);
  ts::SourcesConfig c = config(l);
  c.offline = true;
  const std::string url = "https://tokenizers.example/llama/tokenizer.json?sig=SECRET";
  ts::Discovery d = ts::discover(host(), c, facts(model), {.explicit_path = url});
  BOOST_TEST(winner(d) == "none");
  const std::string& why = step(d, "explicit").detail;
  BOOST_TEST(why.find("offline mode forbids downloading it") != std::string::npos, why);
  BOOST_TEST(why.find("SECRET") == std::string::npos, why);  // the query string never shows
  BOOST_TEST(ts::outcome_name(step(d, "sibling").outcome) ==
             ts::outcome_name(ts::Outcome::not_asked));
  BOOST_TEST(
      !ts::discover(host(), c, facts(model), {.explicit_path = "http://plain/t.json"}).found);
}

BOOST_AUTO_TEST_SUITE_END()

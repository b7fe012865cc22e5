// `bitnet verify --model M [--tokenizer T] [--json]`: is the file, the tokenizer or an op to
// blame for garbage? Loads everything, runs a short greedy generation with every op output
// looked at, and prints one PASS/WARN/FAIL line per check; exit 1 on any FAIL. With
// --max-tokens 1 it is a cheap health check for deployment scripts.
#include <bitnet/runtime/backend/capabilities.hpp>
#include <bitnet/runtime/diagnostics/verify.hpp>
#include <bitnet/runtime/tokenizer_source/chain.hpp>

#include "../command.hpp"
#include "check_report.hpp"
#include "model_setup.hpp"

namespace bitnet::cli {
namespace {

using model::Check;
using model::Verdict;

constexpr const char* kPrompt = "The quick brown fox jumps over the lazy dog. The";

// compat-check's "tensor types" verdict, asked of one backend: the one that runs the model.
std::optional<Check> tensor_types_check(const gguf::Reader& r, const std::string& path,
                                        const plugins::PluginHost& host,
                                        const std::string& backend) {
  Result<const plugins::PluginRecord*> p = host.choose(BITNET_PLUGIN_KIND_BACKEND, backend);
  if (!p) return Check{"tensor types", Verdict::fail, p.error().message};
  Result<BackendCapabilities> caps = query_capabilities(**p);
  if (!caps) return Check{"tensor types", Verdict::fail, caps.error().message};
  for (Check& c : model::compat_check(r, path, {{(*p)->name, std::move(*caps)}}))
    if (c.name == "tensor types") return c;
  return std::nullopt;
}

}  // namespace

int run_verify(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  options.add_options()("model,m", po::value<std::string>(),
                        "the GGUF model (default: $BITNET_MODEL, else the bundled one)")(
      "tokenizer", po::value<std::string>(),
      "a tokenizer.json (or folder holding one, or an https:// URL of one) instead of the one "
      "discovery finds")("backend", po::value<std::string>(),
                         "a backend plugin by name; default: the best ranked")(
      "threads,t", po::value<int>(), "worker threads (default: all cores)")(
      "prompt,p", po::value<std::string>()->default_value(kPrompt), "the text to continue")(
      "max-tokens,n", po::value<int32_t>()->default_value(16),
      "tokens to generate greedily (1: a quick health check)")(
      "parse-special", "special-token text in the prompt becomes those tokens, as some tools do")(
      "json", "print JSON instead of text");
  po::variables_map vm;
  if (!parse(args, "[--model M.gguf] [--tokenizer T] [--json]", options, vm)) return kExitOk;
  const int32_t max_tokens = vm["max-tokens"].as<int32_t>();
  if (max_tokens < 1) throw UsageError("--max-tokens must be at least 1");
  apply_threads(vm);
  const std::string path = model_path(vm);
  const bool as_json = vm.count("json") > 0;

  Result<gguf::Reader> reader = gguf::Reader::open(path);
  if (!reader)
    return report_checks(path, {{"file", Verdict::fail, reader.error().message}}, as_json);
  std::vector<Check> file_checks = {{"file", Verdict::pass,
                                     "GGUF v" + std::to_string(reader->version()) + ", " +
                                         std::to_string(reader->tensors().size()) + " tensors"}};
  const plugins::PluginHost host = plugins::PluginHost::scan();
  std::vector<Check> tokenizer_checks;
  std::optional<tok::Tokenizer> tokenizer;
  std::vector<int32_t> prompt;
  const tokenizer_source::ModelFacts facts = tokenizer_source::model_facts(*reader, path);
  Result<tokenizer_source::SourcesConfig> config = tokenizer_source::load_sources_config();
  if (!config)
    return report_checks(path, {{"settings", Verdict::fail, config.error().message}}, as_json);
  tokenizer_source::DiscoverOptions d;
  if (vm.count("tokenizer")) d.explicit_path = vm["tokenizer"].as<std::string>();
  if (Result<tok::Tokenizer> t =
          tokenizer_source::find_tokenizer(host, *config, facts, d, &*reader)) {
    tokenizer.emplace(std::move(*t));
    tokenizer_checks.push_back(diagnostics::vocabulary_check(*tokenizer, *reader, facts.n_vocab));
    tokenizer_checks.push_back(
        diagnostics::special_tokens_check(*tokenizer, *reader, facts.n_vocab));
    prompt = tokenizer->encode(vm["prompt"].as<std::string>(),
                               {.parse_special = vm.count("parse-special") > 0});
    tokenizer_checks.push_back(diagnostics::prompt_bos_check(*tokenizer, prompt));
  } else {
    tokenizer_checks.push_back({"vocabulary", Verdict::fail, t.error().message});
  }

  model::ModelOptions mo;
  if (vm.count("backend")) mo.backend = vm["backend"].as<std::string>();
  mo.force_cpu = env_flag("BITNET_FORCE_CPU");
  mo.deterministic = env_flag("BITNET_DETERMINISTIC");
  const int64_t n_ctx = static_cast<int64_t>(prompt.size()) + max_tokens;
  mo.n_ctx = n_ctx;
  Result<std::unique_ptr<model::Model>> m = model::Model::load(path, host, mo);
  std::string backend = mo.backend;
  if (m) {
    backend = (*m)->backend_name();
    file_checks.push_back({"model", Verdict::pass,
                           std::string((*m)->arch().name) + ", " +
                               std::to_string((*m)->hparams().n_layer) + " layers, on " + backend +
                               " " + (*m)->backend().plugin_version()});
  } else {
    file_checks.push_back({"model", Verdict::fail, m.error().message});
  }
  if (backend.empty())
    if (const auto ranked = host.ranked(BITNET_PLUGIN_KIND_BACKEND); !ranked.empty())
      backend = ranked.front()->name;
  if (std::optional<Check> c = tensor_types_check(*reader, path, host, backend))
    file_checks.push_back(std::move(*c));
  file_checks.push_back(diagnostics::norm_weights_check(*reader));

  std::vector<Check> checks = std::move(file_checks);
  checks.insert(checks.end(), tokenizer_checks.begin(), tokenizer_checks.end());
  if (m && tokenizer && !prompt.empty()) {
    Result<model::Session> s = model::Session::create(**m, n_ctx);
    Result<diagnostics::ProbeResult> probe =
        s ? diagnostics::generation_probe(**m, *s, *tokenizer, prompt, max_tokens)
          : Result<diagnostics::ProbeResult>(s.error());
    if (!probe)
      checks.push_back({"generation", Verdict::fail, probe.error().message});
    else
      checks.insert(checks.end(), probe->checks.begin(), probe->checks.end());
  } else if (tokenizer && prompt.empty()) {
    checks.push_back(
        {"generation", Verdict::fail, "the prompt is no tokens at all; give --prompt some text"});
  }
  return report_checks(path, checks, as_json);
}

}  // namespace bitnet::cli

#include "model_setup.hpp"

#include <bitnet/runtime/thread_pool.hpp>
#include <bitnet/runtime/tokenizer_source/chain.hpp>

#include <boost/dll/runtime_symbol_info.hpp>

#include <sys/resource.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "../command.hpp"
#include "model_ref.hpp"
#include "trace_options.hpp"

namespace bitnet::cli {

namespace po = boost::program_options;

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::string_view(v) != "0" && std::string_view(v) != "false";
}

void add_model_options(po::options_description& options) {
  options.add_options()("model,m", po::value<std::string>(),
                        "the GGUF model to run, or REPO[:FILE] pulled from a hub (default: "
                        "$BITNET_MODEL, else the bundled bitnet-b1.58-tiny-brown)")(
      "tokenizer", po::value<std::string>(),
      "a tokenizer.json (or folder holding one, or an https:// URL of one) instead of the one "
      "discovery finds")(
      "auto-download",
      "let discovery download the tokenizer (and a --model REPO[:FILE]) from the mirrors or "
      "the hub")("backend", po::value<std::string>(),
                 "a backend plugin by name (see `bitnet plugins`); default: the best ranked")(
      "threads,t", po::value<int>(), "worker threads (default: all cores)")(
      "ctx", po::value<int64_t>(), "context length in tokens (default: the model's)")(
      "batch", po::value<int64_t>()->default_value(512), "prompt tokens evaluated per step");
  add_trace_options(options);
}

void add_sampling_options(po::options_description& options) {
  options.add_options()("max-tokens,n", po::value<int32_t>()->default_value(128),
                        "tokens to generate at most")(
      "temperature", po::value<float>()->default_value(0.8f), "0 means greedy")(
      "top-k", po::value<int32_t>()->default_value(40), "keep the k likeliest tokens (0: off)")(
      "top-p", po::value<float>()->default_value(0.95f), "nucleus sampling threshold (1: off)")(
      "min-p", po::value<float>()->default_value(0.05f),
      "drop tokens below min-p times the likeliest one (0: off)")(
      "repeat-penalty", po::value<float>()->default_value(1.0f),
      "penalise recent tokens (1: off; 1.1 is a usual value)")(
      "repeat-last-n", po::value<int32_t>()->default_value(64), "how many recent tokens")(
      "seed", po::value<uint64_t>(), "random seed (also BITNET_SEED)")(
      "greedy", "always take the likeliest token")(
      "stop", po::value<std::vector<std::string>>()->composing(),
      "stop before this text (repeatable)");
}

generate::GenerateOptions generation_options(const po::variables_map& vm) {
  generate::GenerateOptions o;
  o.max_tokens = vm["max-tokens"].as<int32_t>();
  if (o.max_tokens < 0) throw UsageError("--max-tokens must be >= 0");
  generate::SamplingParams& s = o.sampling;
  s.greedy = vm.count("greedy") > 0;
  s.temperature = vm["temperature"].as<float>();
  s.top_k = vm["top-k"].as<int32_t>();
  s.top_p = vm["top-p"].as<float>();
  s.min_p = vm["min-p"].as<float>();
  s.repeat_penalty = vm["repeat-penalty"].as<float>();
  s.repeat_last_n = vm["repeat-last-n"].as<int32_t>();
  if (std::string why = generate::check_sampling(s); !why.empty()) throw UsageError(why);
  if (vm.count("seed")) {
    s.seed = vm["seed"].as<uint64_t>();
  } else if (const char* env = std::getenv("BITNET_SEED"); env && *env) {
    char* end = nullptr;
    s.seed = std::strtoull(env, &end, 10);
    if (*end) throw UsageError(std::string("BITNET_SEED=") + env + " is not a whole number");
  } else if (!env_flag("BITNET_DETERMINISTIC")) {
    s.seed = std::random_device{}();
  }
  if (vm.count("stop")) o.stop = vm["stop"].as<std::vector<std::string>>();
  return o;
}

std::string default_model() {
  if (const char* env = std::getenv("BITNET_MODEL"); env && *env) return env;
  // Installed and build trees alike: <prefix>/bin/bitnet and
  // <prefix>/share/bitnet/models/ (the build copies models/ there).
  const std::filesystem::path bundled = boost::dll::program_location().parent_path().parent_path() /
                                        "share/bitnet/models" / kBundledModel;
  std::error_code ec;
  return std::filesystem::is_regular_file(bundled, ec) ? bundled.string() : std::string();
}

void apply_threads(const po::variables_map& vm) {
  if (!vm.count("threads")) return;
  const int n = vm["threads"].as<int>();
  if (n < 1) throw UsageError("--threads must be at least 1");
  thread_pool::set_max_threads(n);
}

std::string model_path(const po::variables_map& vm) {
  const std::string path = vm.count("model") ? vm["model"].as<std::string>() : default_model();
  if (path.empty())
    throw UsageError("no model given and no bundled model found beside this bitnet",
                     "add --model FILE.gguf or set BITNET_MODEL");
  const std::optional<ModelRef> ref = parse_model_ref(path);
  if (!ref) return path;
  return resolve_model_ref(*ref, vm.count("auto-download") > 0).value();
}

Result<LoadedModel> load_model(const po::variables_map& vm) {
  LoadedModel out;
  apply_threads(vm);
  out.threads = thread_pool::max_threads();
  model::ModelOptions mo;
  if (vm.count("backend")) mo.backend = vm["backend"].as<std::string>();
  mo.force_cpu = env_flag("BITNET_FORCE_CPU");
  mo.deterministic = env_flag("BITNET_DETERMINISTIC");
  const int64_t ctx = vm.count("ctx") ? vm["ctx"].as<int64_t>() : 0;
  if (vm.count("ctx") && ctx < 1) throw UsageError("--ctx must be at least 1");
  mo.n_ctx = ctx;
  const int64_t batch = vm["batch"].as<int64_t>();
  if (batch < 1) throw UsageError("--batch must be at least 1");
  const TraceRequest trace_wanted = trace_request(vm);

  const std::string path = model_path(vm);
  out.path = path;
  const plugins::PluginHost host = plugins::PluginHost::scan();
  Result<std::unique_ptr<model::Model>> m = model::Model::load(path, host, mo);
  if (!m) return m.error();
  out.model = std::move(*m);

  Result<tokenizer_source::SourcesConfig> config = tokenizer_source::load_sources_config();
  if (!config) return config.error();
  tokenizer_source::DiscoverOptions d;
  if (vm.count("tokenizer")) d.explicit_path = vm["tokenizer"].as<std::string>();
  d.allow_network = vm.count("auto-download") > 0;
  Result<tok::Tokenizer> t = tokenizer_source::find_tokenizer(
      host, *config, tokenizer_source::model_facts(out.model->reader(), path), d,
      &out.model->reader());
  if (!t) return t.error();
  out.tokenizer = std::make_unique<tok::Tokenizer>(std::move(*t));

  Result<model::Session> s = model::Session::create(*out.model, ctx, batch);
  if (!s) return s.error();
  out.session = std::make_unique<model::Session>(std::move(*s));
  Result<std::unique_ptr<diagnostics::TraceWriter>> trace =
      start_trace(trace_wanted, *out.model, *out.session);
  if (!trace) return trace.error();
  out.trace = std::move(*trace);
  return out;
}

uint64_t peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<uint64_t>(u.ru_maxrss) * 1024;  // Linux reports KiB
}

}  // namespace bitnet::cli

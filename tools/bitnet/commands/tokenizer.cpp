// `bitnet tokenizer where MODEL [--tokenizer P] [--json]`: which tokenizer source wins for a
// model and why, and what every other step of the discovery chain would say.
#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/runtime/tokenizer_source/chain.hpp>

#include <boost/json.hpp>

#include <iostream>

#include "../command.hpp"

namespace bitnet::cli {
namespace {

namespace json = boost::json;
namespace ts = tokenizer_source;

std::string_view format_name(int32_t format) {
  switch (format) {
    case BITNET_TOKENIZER_FORMAT_HF_JSON:
      return "tokenizer.json";
    case BITNET_TOKENIZER_FORMAT_SPM_MODEL:
      return "tokenizer.model";
    case BITNET_TOKENIZER_FORMAT_GGUF:
      return "gguf";
  }
  return "unknown";
}

int run_where(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  options.add_options()("model", po::value<std::string>(), "the GGUF model")(
      "tokenizer", po::value<std::string>(), "an explicit tokenizer, as a run would take")(
      "json", "print JSON");
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse(args, "where MODEL.gguf [--tokenizer P] [--json]", options, vm, &positional))
    return kExitOk;
  if (!vm.count("model"))
    throw UsageError("tokenizer where needs a model", "bitnet tokenizer where MODEL.gguf");
  const std::string model = vm["model"].as<std::string>();
  Result<gguf::Reader> reader = gguf::Reader::open(model);
  Result<ts::SourcesConfig> config = ts::load_sources_config();
  if (!reader || !config) {
    std::cerr << "bitnet tokenizer where: "
              << (reader ? config.error().message : reader.error().message) << "\n";
    return kExitRuntimeError;
  }
  const ts::ModelFacts facts = ts::model_facts(*reader, model);
  ts::DiscoverOptions opts;
  opts.ask_every_step = true;
  if (vm.count("tokenizer")) opts.explicit_path = vm["tokenizer"].as<std::string>();
  const ts::Discovery d = ts::discover(plugins::PluginHost::scan(), *config, facts, opts);

  if (vm.count("json")) {
    json::array steps;
    for (const ts::Attempt& a : d.attempts)
      steps.push_back(json::object{{"step", a.step},
                                   {"plugin", a.plugin},
                                   {"outcome", ts::outcome_name(a.outcome)},
                                   {"detail", a.detail}});
    json::object out{{"model", model},
                     {"architecture", facts.architecture},
                     {"n_vocab", facts.n_vocab},
                     {"cache_key", d.cache_key},
                     {"config", config->file.string()},
                     {"strict", config->strict},
                     {"offline", config->offline},
                     {"steps", std::move(steps)},
                     {"winner", nullptr}};
    if (d.found)
      out["winner"] = json::object{{"step", d.found->step},
                                   {"format", format_name(d.found->format)},
                                   {"path", d.found->path.string()},
                                   {"origin", d.found->origin}};
    std::cout << json::serialize(out) << "\n";
  } else {
    std::cout << "model: " << model << " (" << facts.architecture << ", " << facts.n_vocab
              << " embedding rows"
              << (d.cache_key.empty() ? "" : ", known tokenizer " + d.cache_key) << ")\n";
    if (d.found)
      std::cout << "tokenizer: " << d.found->path.string() << " (" << format_name(d.found->format)
                << ") from step '" << d.found->step << "': " << d.found->origin << "\n";
    else
      std::cout << "tokenizer: none found\n";
    std::cout << "steps, in order (config: "
              << (config->file.empty() ? std::string("defaults") : config->file.string())
              << (config->strict ? ", strict" : "") << (config->offline ? ", offline" : "")
              << "):\n"
              << ts::describe_attempts(d);
  }
  return d.found ? kExitOk : kExitRuntimeError;
}

}  // namespace

int run_tokenizer_fetch(const Args& args);
int run_tokenizer_pre_download(const Args& args);

int run_tokenizer(const Args& args) {
  const std::string action = args.argv.empty() ? "" : args.argv.front();
  if (action == "where")
    return run_where({args.command + " where", {args.argv.begin() + 1, args.argv.end()}});
  const Args rest{args.command + " " + action,
                  {args.argv.begin() + (action.empty() ? 0 : 1), args.argv.end()}};
  if (action == "fetch") return run_tokenizer_fetch(rest);
  if (action == "pre-download") return run_tokenizer_pre_download(rest);
  if (action == "-h" || action == "--help") {
    std::cout << "usage: bitnet tokenizer where MODEL.gguf [--tokenizer P] [--json]\n"
                 "       bitnet tokenizer fetch (--model M.gguf | --repo ORG/NAME) [--into DIR]\n"
                 "              [--source hub|mirror:NAME] [--revision REV] [--force]\n"
                 "       bitnet tokenizer pre-download --model-dir DIR\n";
    return kExitOk;
  }
  throw UsageError(
      action.empty() ? "bitnet tokenizer needs an action"
                     : "unknown tokenizer action '" + action + "'",
      "the actions: where, fetch, pre-download (run `bitnet tokenizer ACTION --help`)");
}

}  // namespace bitnet::cli

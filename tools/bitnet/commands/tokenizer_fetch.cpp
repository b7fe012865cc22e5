// `bitnet tokenizer fetch (--model M | --repo R) [--into DIR] [--source S] [--revision REV]
// [--force]` and `bitnet tokenizer pre-download --model-dir DIR`: the network steps of
// discovery on request, so that later runs find the tokenizer in the cache with no network.
#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/runtime/tokenizer_source/fetch.hpp>

#include <iostream>

#include "../command.hpp"
#include "fetched_copy.hpp"

namespace bitnet::cli {
namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;
namespace ts = tokenizer_source;

Result<ts::ModelFacts> facts_of(const fs::path& model) {
  Result<gguf::Reader> reader = gguf::Reader::open(model);
  if (!reader) return reader.error();
  return ts::model_facts(*reader, model);
}

int fail(std::string_view what, const std::string& message) {
  std::cerr << "bitnet tokenizer " << what << ": " << message << "\n";
  return kExitRuntimeError;
}

}  // namespace

int run_tokenizer_fetch(const Args& args) {
  po::options_description options("options");
  options.add_options()("model", po::value<std::string>(), "the GGUF model whose tokenizer to get")(
      "repo", po::value<std::string>(), "a repository (org/name) whose tokenizer.json to get")(
      "into", po::value<std::string>(), "also put tokenizer.json (and its config) in this folder")(
      "source", po::value<std::string>(), "ask only this source: hub or mirror:NAME")(
      "revision", po::value<std::string>()->default_value("main"), "branch, tag or commit")(
      "force", "download again even when cached");
  po::variables_map vm;
  const char* usage =
      "(--model M.gguf | --repo ORG/NAME) [--into DIR] [--source hub|mirror:NAME] "
      "[--revision REV] [--force]";
  if (!parse(args, usage, options, vm)) return kExitOk;
  if (vm.count("model") == vm.count("repo"))
    throw UsageError("give exactly one of --model and --repo",
                     std::string("bitnet tokenizer fetch ") + usage);
  Result<ts::SourcesConfig> config = ts::load_sources_config();
  if (!config) return fail("fetch", config.error().message);
  ts::FetchRequest r;
  if (vm.count("model")) {
    Result<ts::ModelFacts> f = facts_of(vm["model"].as<std::string>());
    if (!f) return fail("fetch", f.error().message);
    r.model = std::move(*f);
  } else {
    r.repo_id = vm["repo"].as<std::string>();
  }
  r.revision = vm["revision"].as<std::string>();
  if (vm.count("source")) r.source = vm["source"].as<std::string>();
  r.force = vm.count("force") > 0;
  Result<ts::FoundTokenizer> found = ts::fetch_or_explain(plugins::PluginHost::scan(), *config, r);
  if (!found) return fail("fetch", found.error().message);
  // The engine must read it too: a file the sources accept (valid JSON that fits the model)
  // can still use a pre-tokenizer this runtime refuses.
  if (Result<tok::Tokenizer> t = ts::load_found(*found, r.model, config->strict); !t)
    return fail("fetch", found->path.string() + ": " + t.error().message);
  std::cout << "tokenizer: " << found->path.string() << " (from " << found->step << ": "
            << found->origin << ")\n";
  if (vm.count("into")) {
    const fs::path into = vm["into"].as<std::string>();
    for (const fs::path& file : {found->path, found->config_path}) {
      if (file.empty()) continue;
      Result<fs::path> placed = place_into(file, into);
      if (!placed) return fail("fetch", placed.error().message);
      std::cout << "copied to " << placed->string() << "\n";
    }
  }
  return kExitOk;
}

int run_tokenizer_pre_download(const Args& args) {
  po::options_description options("options");
  options.add_options()("model-dir", po::value<std::string>(),
                        "a folder of GGUF models (searched recursively)");
  po::variables_map vm;
  if (!parse(args, "--model-dir DIR", options, vm)) return kExitOk;
  if (!vm.count("model-dir"))
    throw UsageError("pre-download needs --model-dir",
                     "bitnet tokenizer pre-download --model-dir DIR");
  const fs::path dir = vm["model-dir"].as<std::string>();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return fail("pre-download", dir.string() + " is not a folder");
  Result<ts::SourcesConfig> config = ts::load_sources_config();
  if (!config) return fail("pre-download", config.error().message);
  std::vector<fs::path> models;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->is_regular_file(ec) && it->path().extension() == ".gguf") models.push_back(it->path());
  std::ranges::sort(models);
  if (models.empty()) return fail("pre-download", "no .gguf file under " + dir.string());
  const plugins::PluginHost host = plugins::PluginHost::scan();
  int failed = 0;
  for (const fs::path& m : models) {
    Result<ts::ModelFacts> f = facts_of(m);
    if (!f) {
      ++failed;
      std::cout << m.string() << ": FAIL " << f.error().message << "\n";
      continue;
    }
    const ts::Discovery d = ts::discover(host, *config, *f, {.allow_network = true});
    if (d.found) {
      std::cout << m.string() << ": ok, " << d.found->step << ": " << d.found->origin << "\n";
    } else {
      ++failed;
      std::cout << m.string() << ": FAIL no tokenizer; the sources tried:\n"
                << ts::describe_attempts(d);
    }
  }
  std::cout << models.size() - failed << " of " << models.size() << " models have a tokenizer\n";
  return failed ? kExitRuntimeError : kExitOk;
}

}  // namespace bitnet::cli

// `bitnet pull REPO [--file F.gguf] [--revision REV] [--into DIR] [--source S] [--force]`: a
// model file through the same sources as tokenizers (mirrors by priority, then the hub), with
// resume, size and SHA-256 checks, the free-space check and a progress bar. Without --file the
// repository must hold exactly one .gguf.
#include <bitnet/runtime/tokenizer_source/fetch.hpp>

#include <iostream>

#include "../command.hpp"
#include "fetched_copy.hpp"

namespace bitnet::cli {

namespace po = boost::program_options;
namespace ts = tokenizer_source;

int run_pull(const Args& args) {
  po::options_description options("options");
  options.add_options()("repo", po::value<std::string>(), "the repository, org/name")(
      "file", po::value<std::string>(), "the file to get (default: the repository's one .gguf)")(
      "revision", po::value<std::string>()->default_value("main"), "branch, tag or commit")(
      "into", po::value<std::string>(), "also put the file in this folder")(
      "source", po::value<std::string>(), "ask only this source: hub or mirror:NAME")(
      "force", "download again even when cached");
  po::positional_options_description positional;
  positional.add("repo", 1);
  po::variables_map vm;
  const char* usage = "REPO [--file F.gguf] [--revision REV] [--into DIR] [--source S] [--force]";
  if (!parse(args, usage, options, vm, &positional)) return kExitOk;
  if (!vm.count("repo"))
    throw UsageError("pull needs a repository", "bitnet pull microsoft/bitnet-b1.58-2B-4T-gguf");
  Result<ts::SourcesConfig> config = ts::load_sources_config();
  ts::FetchRequest r;
  r.repo_id = vm["repo"].as<std::string>();
  r.file = vm.count("file") ? vm["file"].as<std::string>() : "*.gguf";
  r.revision = vm["revision"].as<std::string>();
  if (vm.count("source")) r.source = vm["source"].as<std::string>();
  r.force = vm.count("force") > 0;
  Result<ts::FoundTokenizer> found =
      config ? ts::fetch_or_explain(plugins::PluginHost::scan(), *config, r)
             : Result<ts::FoundTokenizer>(config.error());
  if (!found) {
    std::cerr << "bitnet pull: " << found.error().message << "\n";
    return kExitRuntimeError;
  }
  std::error_code ec;
  std::cout << r.repo_id << ": " << found->path.string() << " ("
            << std::filesystem::file_size(found->path, ec) << " bytes, from " << found->step << ": "
            << found->origin << ")\n";
  if (vm.count("into")) {
    Result<std::filesystem::path> placed = place_into(found->path, vm["into"].as<std::string>());
    if (!placed) {
      std::cerr << "bitnet pull: " << placed.error().message << "\n";
      return kExitRuntimeError;
    }
    std::cout << "copied to " << placed->string() << "\n";
  }
  std::cout << "run it with: bitnet run --model " << r.repo_id
            << (vm.count("file") ? ":" + r.file : std::string()) << "\n";
  return kExitOk;
}

}  // namespace bitnet::cli

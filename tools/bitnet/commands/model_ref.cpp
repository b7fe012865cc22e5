#include "model_ref.hpp"

#include <bitnet/runtime/plugins/plugin_host.hpp>
#include <bitnet/runtime/tokenizer_source/fetch.hpp>

#include <filesystem>

namespace bitnet::cli {

namespace ts = tokenizer_source;

std::optional<ModelRef> parse_model_ref(const std::string& value) {
  std::error_code ec;
  if (value.empty() || std::filesystem::exists(value, ec)) return std::nullopt;
  if (value.front() == '/' || value.front() == '.' || value.front() == '~') return std::nullopt;
  const size_t colon = value.find(':');
  const std::string repo = value.substr(0, colon);
  const size_t slash = repo.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == repo.size() ||
      repo.find('/', slash + 1) != std::string::npos || repo.ends_with(".gguf"))
    return std::nullopt;
  ModelRef ref{repo, colon == std::string::npos ? "*.gguf" : value.substr(colon + 1)};
  if (ref.file.empty()) return std::nullopt;
  return ref;
}

Result<std::string> resolve_model_ref(const ModelRef& ref, bool allow_network) {
  Result<ts::SourcesConfig> config = ts::load_sources_config();
  if (!config) return config.error();
  ts::FetchRequest r;
  r.repo_id = ref.repo;
  r.file = ref.file;
  r.allow_network = allow_network;
  Result<ts::FoundTokenizer> found = ts::fetch_or_explain(plugins::PluginHost::scan(), *config, r);
  if (!found)
    return make_error(
        found.error().code,
        found.error().message + (allow_network ? std::string()
                                               : "\n(or fetch it: `bitnet pull " + ref.repo +
                                                     "`, or add --auto-download)"));
  return found->path.string();
}

}  // namespace bitnet::cli

// Private to the tokenizer-source code: the steps of a chain, each served by a plugin (or the
// host's cache), and asking them in order. `discover` and `fetch` are two uses of it.
#pragma once

#include <bitnet/runtime/plugins/plugin_host.hpp>
#include <bitnet/runtime/tokenizer_source/chain.hpp>
#include <bitnet/runtime/tokenizer_source/config.hpp>

#include <optional>
#include <string>
#include <vector>

namespace bitnet::tokenizer_source::detail {

struct Step {
  std::string name, plugin, config;  // plugin "": the host's own cache
  bool explicit_download = false;    // --tokenizer https://URL: a download the user asked for
};

// An http(s):// --tokenizer: the hub's code fetches it (and refuses plain http).
bool is_url(const std::string& path);

// The steps of `order` (names as in the config) with their plugins' settings; `force` asks
// the network sources to download again.
std::vector<Step> expand(const SourcesConfig& c, const std::vector<std::string>& order,
                         const std::string& explicit_path, bool force);

// The query with the strings it points into.
struct OwnedQuery {
  std::string model_path, explicit_path, repo_id, revision, cache_dir, architecture, cache_key,
      file;
  bool allow_network = false;
  int64_t n_vocab = 0, embedded_tokens = 0;
  bitnet_source_query view() const;
};

struct RunRules {
  bool strict = false, offline = false, ask_every_step = false;
  bool explicit_only = false;  // strict with an explicit tokenizer: no other step counts
};

// Asks every step in order until one finds (and, with ask_every_step, the rest for the record).
// A step that errors ends the search in strict mode, and always when it is the explicit one.
void run_steps(const plugins::PluginHost& host, const SourcesConfig& config,
               const std::vector<Step>& steps, const OwnedQuery& query, const RunRules& rules,
               std::optional<FoundTokenizer>& found, std::vector<Attempt>& attempts);

}  // namespace bitnet::tokenizer_source::detail

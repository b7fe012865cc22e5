// Fetching on request (`bitnet tokenizer fetch`, `bitnet pull`, `--auto-download` of a model
// name): the network sources only (the mirrors by priority, then the hub, or the one
// --source names), asked for a model's tokenizer, a repository's tokenizer, or a file of a
// repository. Sources answer from their caches first, so a second fetch downloads nothing
// unless forced.
#pragma once

#include <bitnet/runtime/error.hpp>
#include <bitnet/runtime/plugins/plugin_host.hpp>
#include <bitnet/runtime/tokenizer_source/chain.hpp>
#include <bitnet/runtime/tokenizer_source/config.hpp>

#include <string>

namespace bitnet::tokenizer_source {

struct FetchRequest {
  ModelFacts model;     // --model; its path stays empty for --repo and pull
  std::string repo_id;  // --repo or pull's REPO; empty: the model's or its known tokenizer's
  std::string revision = "main";
  std::string file;           // a file of the repository (may hold '*'); empty: the tokenizer
  std::string source;         // "hub" or "mirror:NAME"; empty: every network source in order
  bool force = false;         // download again even when cached
  bool allow_network = true;  // false: answer from the caches only
};

struct Fetch {
  std::optional<FoundTokenizer> found;
  std::vector<Attempt> attempts;
  std::string cache_key;
};

// Never fails as a whole; see `attempts` when nothing was found. Offline mode (or
// BITNET_OFFLINE) lets the sources answer from disk only.
Fetch fetch(const plugins::PluginHost& host, const SourcesConfig& config,
            const FetchRequest& request);

// fetch, with an error listing every source tried when nothing was found, or naming --source
// when it matches no configured source.
Result<FoundTokenizer> fetch_or_explain(const plugins::PluginHost& host,
                                        const SourcesConfig& config, const FetchRequest& request);

// The file behind a --tokenizer value: the value itself, or for an https:// URL its copy in
// the cache, downloaded now when missing (unless offline). n_vocab (0: unknown) bounds it.
Result<std::filesystem::path> explicit_tokenizer_file(const plugins::PluginHost& host,
                                                      const SourcesConfig& config,
                                                      const std::string& given,
                                                      int64_t n_vocab = 0);

}  // namespace bitnet::tokenizer_source

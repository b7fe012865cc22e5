// Where tokenizers are looked for: the discovery chain's settings from one JSON file
// (BITNET_CONFIG, else $XDG_CONFIG_HOME/bitnet/config.json or ~/.config/bitnet/config.json) and
// the environment. With no file every default works.
//
//   {"cache_dir": "/var/cache/bitnet",
//    "tokenizer_sources": {
//      "order": ["explicit", "embedded", "sibling", "parent", "dirs", "cache", "mirrors", "hub"],
//      "dirs": ["/opt/tokenizers"],
//      "mirrors": [{"name": "corp", "priority": 10, ...the mirror plugin's settings}],
//      "hub": {...the hf-hub plugin's settings}}}
#pragma once

#include <bitnet/runtime/error.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace bitnet::tokenizer_source {

struct MirrorConfig {
  std::string name;
  int64_t priority = 0;  // higher is asked first
  std::string json;      // the whole entry, handed to the mirror plugin
};

struct SourcesConfig {
  std::filesystem::path file;  // where the settings came from; empty: defaults only
  std::vector<std::string> order;
  std::vector<std::string> dirs;
  std::vector<MirrorConfig> mirrors;  // highest priority first
  std::string hub_json = "{}";
  std::filesystem::path cache_dir;
  bool strict = false;   // BITNET_STRICT_TOKENIZERS=1
  bool offline = false;  // BITNET_OFFLINE=1 or HF_HUB_OFFLINE=1
};

// The steps a chain may hold, in the default order.
const std::vector<std::string>& default_order();

// Reads the config file (a missing default file is fine; a missing BITNET_CONFIG file, bad JSON
// or an unknown step is an error naming the file) and applies the environment.
Result<SourcesConfig> load_sources_config();
// The same from JSON text, for tests and for `file` already read; `file` names it in errors.
Result<SourcesConfig> parse_sources_config(std::string_view text,
                                           const std::filesystem::path& file);

}  // namespace bitnet::tokenizer_source

// Finds, loads, negotiates with and ranks plugins. Loading never fails as a whole: each plugin
// that cannot be used is kept as a record with the reason, and the host carries on.
#pragma once

#include <bitnet/abi.h>
#include <bitnet/backend.h>
#include <bitnet/tokenizer_source.h>
#include <bitnet/runtime/error.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace bitnet::plugins {

struct PluginRecord {
  std::filesystem::path path;
  std::string name;  // empty when the file never said
  std::string version;
  std::string description;
  int32_t kind = 0;                 // bitnet_plugin_kind; 0 when unknown
  bitnet_abi_version built{};       // what the plugin was built against
  bitnet_abi_version negotiated{};  // what both sides use
  int32_t score = 0;
  std::string score_reason;
  bool loaded = false;
  std::string rejection;  // why it is not loaded; empty when loaded
  const bitnet_backend_api* backend = nullptr;
  const bitnet_source_api* source = nullptr;
};

struct HostOptions {
  std::vector<std::filesystem::path> search_paths = {};  // empty: default_search_paths()
  // One entry per major the host speaks; tests offer other versions to prove negotiation.
  std::vector<bitnet_abi_version> offered = {{BITNET_ABI_MAJOR, BITNET_ABI_MINOR}};
};

std::string_view kind_name(int32_t kind);

class PluginHost {
 public:
  // Loads every plugin found. Each rejection is logged at info level and kept in its record.
  static PluginHost scan(const HostOptions& options = {});

  const std::vector<PluginRecord>& plugins() const { return records_; }
  // Loaded plugins of one kind, best score first (ties: the order they were found in).
  std::vector<const PluginRecord*> ranked(int32_t kind) const;
  // The best plugin of `kind`, or the one named `name`; an error explains what was found.
  Result<const PluginRecord*> choose(int32_t kind, std::string_view name = {}) const;

 private:
  std::vector<PluginRecord> records_;
};

}  // namespace bitnet::plugins

#include <bitnet/runtime/log.hpp>
#include <bitnet/runtime/plugins/discovery.hpp>
#include <bitnet/runtime/plugins/plugin_host.hpp>

#include "loader.hpp"

#include <algorithm>
#include <set>

namespace bitnet::plugins {

std::string_view kind_name(int32_t kind) {
  switch (kind) {
    case BITNET_PLUGIN_KIND_BACKEND:
      return "backend";
    case BITNET_PLUGIN_KIND_TOKENIZER_SOURCE:
      return "tokenizer-source";
    default:
      return "unknown";
  }
}

PluginHost PluginHost::scan(const HostOptions& options) {
  PluginHost host;
  const auto paths = options.search_paths.empty() ? default_search_paths() : options.search_paths;
  std::set<std::filesystem::path> seen;
  for (const auto& file : find_plugin_files(paths)) {
    std::error_code ec;
    const auto canonical = std::filesystem::weakly_canonical(file, ec);
    // The same file reached through two search paths is one plugin, not a duplicate.
    if (!seen.insert(ec ? file : canonical).second) continue;

    auto admit = [&](const PluginRecord& candidate) -> std::string {
      for (const auto& r : host.records_)
        if (r.name == candidate.name && r.negotiated.major != 0)
          return "duplicate name '" + r.name + "': a plugin of that name was found first at " +
                 r.path.string() + " (" + (r.loaded ? "loaded" : "rejected: " + r.rejection) +
                 "); remove one of them, or reorder BITNET_PLUGIN_PATH";
      return {};
    };
    PluginRecord r = load_plugin(file, options.offered, admit);
    if (r.loaded) {
      log::debug("plugins", "loaded ", kind_name(r.kind), " '", r.name, "' ", r.version, " (ABI ",
                 r.negotiated.major, ".", r.negotiated.minor, ", score ", r.score, ") from ",
                 r.path.string());
    } else {
      log::debug("plugins", "skipped ", r.path.string(), ": ", r.rejection);
    }
    host.records_.push_back(std::move(r));
  }
  return host;
}

std::vector<const PluginRecord*> PluginHost::ranked(int32_t kind) const {
  std::vector<const PluginRecord*> out;
  for (const auto& r : records_)
    if (r.loaded && r.kind == kind) out.push_back(&r);
  std::stable_sort(out.begin(), out.end(), [](const PluginRecord* a, const PluginRecord* b) {
    return a->score > b->score;
  });
  return out;
}

Result<const PluginRecord*> PluginHost::choose(int32_t kind, std::string_view name) const {
  const std::string what(kind_name(kind));
  if (name.empty()) {
    auto best = ranked(kind);
    if (!best.empty()) return best.front();
    return make_error(BITNET_STATUS_NOT_FOUND,
                      "no " + what +
                          " plugin could be loaded; run `bitnet plugins` to see what was found "
                          "and why each was rejected (set BITNET_PLUGIN_PATH to add a directory)");
  }
  std::string available;
  for (const auto& r : records_) {
    if (r.kind != kind) continue;
    if (r.name == name) {
      if (r.loaded) return &r;
      return make_error(BITNET_STATUS_UNSUPPORTED,
                        what + " '" + std::string(name) + "' cannot be used: " + r.rejection);
    }
    if (r.loaded) available += (available.empty() ? "" : ", ") + r.name;
  }
  return make_error(BITNET_STATUS_NOT_FOUND,
                    "no " + what + " plugin named '" + std::string(name) +
                        "'; available: " + (available.empty() ? std::string("none") : available));
}

}  // namespace bitnet::plugins

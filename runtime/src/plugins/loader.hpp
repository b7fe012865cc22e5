// Loads one plugin file and runs negotiate, score and init on it, filling a PluginRecord.
#pragma once

#include <bitnet/runtime/plugins/plugin_host.hpp>

#include <functional>
#include <span>
#include <string>

namespace bitnet::plugins {

// Returns why a plugin that negotiated must still be refused (a duplicate name), or "".
using AdmitFn = std::function<std::string(const PluginRecord&)>;

// On any failure the record comes back with loaded = false and rejection set. `admit` runs
// after negotiation and before any other plugin code. Libraries stay mapped until the process
// exits, whatever happened, so nothing a plugin handed out can dangle.
PluginRecord load_plugin(const std::filesystem::path& file,
                         std::span<const bitnet_abi_version> offered, const AdmitFn& admit);

}  // namespace bitnet::plugins

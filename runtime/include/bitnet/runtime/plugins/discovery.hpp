// Where plugins are looked for, and which files there count as plugins.
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

namespace bitnet::plugins {

// Splits a colon-separated list (BITNET_PLUGIN_PATH), dropping empty entries.
std::vector<std::filesystem::path> split_path_list(std::string_view list);

// The search order: BITNET_PLUGIN_PATH entries first (so a user can override), then
// `<dir of libbitnet>/bitnet/plugins`, which is the build tree's lib/bitnet/plugins and the
// install's lib/bitnet/plugins alike.
std::vector<std::filesystem::path> default_search_paths();

// Plugin files under the given paths: a path naming a file is taken as is; a directory
// contributes its `bitnet-*.so` files, sorted by name. Missing paths are skipped.
std::vector<std::filesystem::path> find_plugin_files(
    const std::vector<std::filesystem::path>& search_paths);

}  // namespace bitnet::plugins

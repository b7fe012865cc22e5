#include <bitnet/runtime/log.hpp>
#include <bitnet/runtime/plugins/discovery.hpp>

#include <boost/dll/runtime_symbol_info.hpp>

#include <algorithm>
#include <cstdlib>

namespace bitnet::plugins {

namespace fs = std::filesystem;

std::vector<fs::path> split_path_list(std::string_view list) {
  std::vector<fs::path> out;
  while (!list.empty()) {
    const size_t colon = list.find(':');
    const std::string_view item = list.substr(0, colon);
    if (!item.empty()) out.emplace_back(item);
    if (colon == std::string_view::npos) break;
    list.remove_prefix(colon + 1);
  }
  return out;
}

std::vector<fs::path> default_search_paths() {
  std::vector<fs::path> paths;
  if (const char* env = std::getenv("BITNET_PLUGIN_PATH")) paths = split_path_list(env);
  std::error_code ec;
  fs::path lib = boost::dll::this_line_location(ec);
  if (ec) return paths;
  // The loader may report the library through an RPATH such as bin/../lib; show the real path.
  if (fs::path canonical = fs::weakly_canonical(lib, ec); !ec) lib = canonical;
  paths.push_back(lib.parent_path() / "bitnet" / "plugins");
  return paths;
}

std::vector<fs::path> find_plugin_files(const std::vector<fs::path>& search_paths) {
  std::vector<fs::path> files;
  for (const fs::path& p : search_paths) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
      continue;
    }
    if (!fs::is_directory(p, ec)) {
      log::debug("plugins", "search path ", p.string(), " does not exist; skipped");
      continue;
    }
    std::vector<fs::path> here;
    for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.starts_with("bitnet-") && it->path().extension() == ".so")
        here.push_back(it->path());
    }
    if (ec) log::warn("plugins", "cannot list ", p.string(), ": ", ec.message(), "; skipped");
    std::sort(here.begin(), here.end());
    files.insert(files.end(), here.begin(), here.end());
  }
  return files;
}

}  // namespace bitnet::plugins

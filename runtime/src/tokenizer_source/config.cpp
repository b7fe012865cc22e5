#include <bitnet/runtime/tokenizer_source/config.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace bitnet::tokenizer_source {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// The same words as the HTTPS client's offline check, so both agree on BITNET_OFFLINE=off.
bool env_flag(const char* name) {
  const std::string v = env(name);
  return !v.empty() && v != "0" && v != "false" && v != "FALSE" && v != "no" && v != "off";
}

fs::path home() {
  const std::string h = env("HOME");
  return h.empty() ? fs::path("/") : fs::path(h);
}

fs::path default_cache_dir() {
  if (const std::string d = env("XDG_CACHE_HOME"); !d.empty()) return fs::path(d) / "bitnet";
  return home() / ".cache" / "bitnet";
}

fs::path default_config_file() {
  if (const std::string d = env("XDG_CONFIG_HOME"); !d.empty())
    return fs::path(d) / "bitnet" / "config.json";
  return home() / ".config" / "bitnet" / "config.json";
}

Error bad(const fs::path& file, const std::string& what) {
  return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                    file.string() + ": " + what + " (see docs/ARCHITECTURE.md, tokenizer sources)");
}

Result<std::vector<std::string>> strings(const json::value& v, const fs::path& file,
                                         const char* key) {
  std::vector<std::string> out;
  if (!v.is_array()) return bad(file, std::string("\"") + key + "\" must be a list of strings");
  for (const json::value& e : v.as_array()) {
    if (!e.is_string()) return bad(file, std::string("\"") + key + "\" must be a list of strings");
    out.emplace_back(e.as_string());
  }
  return out;
}

void apply_environment(SourcesConfig& c) {
  if (const std::string d = env("BITNET_CACHE_DIR"); !d.empty()) c.cache_dir = d;
  if (c.cache_dir.empty()) c.cache_dir = default_cache_dir();
  c.strict = env_flag("BITNET_STRICT_TOKENIZERS");
  c.offline = env_flag("BITNET_OFFLINE") || env_flag("HF_HUB_OFFLINE");
}

}  // namespace

const std::vector<std::string>& default_order() {
  static const std::vector<std::string> order = {"explicit", "embedded", "sibling", "parent",
                                                 "dirs",     "cache",    "mirrors", "hub"};
  return order;
}

Result<SourcesConfig> parse_sources_config(std::string_view text, const fs::path& file) {
  SourcesConfig c;
  c.file = file;
  c.order = default_order();
  boost::system::error_code ec;
  const json::value root = json::parse(text, ec);
  if (ec) return bad(file, "not valid JSON (" + ec.message() + ")");
  if (!root.is_object()) return bad(file, "the top level must be a JSON object");
  const json::object& o = root.as_object();
  if (const json::value* d = o.if_contains("cache_dir")) {
    if (!d->is_string()) return bad(file, "\"cache_dir\" must be a string");
    c.cache_dir = std::string(d->as_string());
  }
  const json::value* ts = o.if_contains("tokenizer_sources");
  if (ts && !ts->is_object()) return bad(file, "\"tokenizer_sources\" must be an object");
  if (ts) {
    const json::object& t = ts->as_object();
    if (const json::value* v = t.if_contains("order")) {
      auto order = strings(*v, file, "order");
      if (!order) return order.error();
      for (const std::string& step : *order)
        if (std::ranges::find(default_order(), step) == default_order().end())
          return bad(file, "\"order\" names '" + step +
                               "'; the steps are explicit, embedded, "
                               "sibling, parent, dirs, cache, mirrors and hub");
      c.order = std::move(*order);
    }
    if (const json::value* v = t.if_contains("dirs")) {
      auto dirs = strings(*v, file, "dirs");
      if (!dirs) return dirs.error();
      c.dirs = std::move(*dirs);
    }
    if (const json::value* v = t.if_contains("mirrors")) {
      if (!v->is_array()) return bad(file, "\"mirrors\" must be a list of objects");
      for (const json::value& m : v->as_array()) {
        const json::object* mo = m.if_object();
        const json::value* name = mo ? mo->if_contains("name") : nullptr;
        if (!name || !name->is_string() || name->as_string().empty())
          return bad(file, "each entry of \"mirrors\" needs a \"name\"");
        MirrorConfig mc{std::string(name->as_string()), 0, json::serialize(m)};
        if (std::ranges::any_of(c.mirrors,
                                [&](const MirrorConfig& o) { return o.name == mc.name; }))
          return bad(file, "two mirrors are named '" + mc.name +
                               "'; give each its own name (steps are called mirror:NAME)");
        if (const json::value* p = mo->if_contains("priority")) {
          if (!p->is_int64())
            return bad(file, "mirror '" + mc.name + "': priority must be an integer");
          mc.priority = p->as_int64();
        }
        c.mirrors.push_back(std::move(mc));
      }
      std::ranges::stable_sort(c.mirrors, [](const MirrorConfig& a, const MirrorConfig& b) {
        return a.priority > b.priority;
      });
    }
    if (const json::value* v = t.if_contains("hub")) {
      if (!v->is_object()) return bad(file, "\"hub\" must be an object");
      c.hub_json = json::serialize(*v);
    }
  }
  apply_environment(c);
  return c;
}

Result<SourcesConfig> load_sources_config() {
  const std::string chosen = env("BITNET_CONFIG");
  const fs::path file = chosen.empty() ? default_config_file() : fs::path(chosen);
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    if (!chosen.empty())
      return make_error(BITNET_STATUS_NOT_FOUND,
                        "BITNET_CONFIG names " + file.string() +
                            ", which cannot be read; fix the path or unset BITNET_CONFIG");
    SourcesConfig c;
    c.order = default_order();
    apply_environment(c);
    return c;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_sources_config(text.str(), file);
}

}  // namespace bitnet::tokenizer_source

// mirror: tokenizers and model files from an enterprise's internal mirror. Several may be
// configured; the host asks them by priority (higher first), before the public hub.
//
// This file is meant to be copied: a source plugin is a Source with one resolve(), a Factory
// that reads its settings, and the three entry points. The host lends the HTTPS client
// (TLS verification, proxies, retries, resume, checksums), so a plugin needs no network code.
//
// Settings (one entry of the config's tokenizer_sources.mirrors):
//   name          required; the step is called mirror:NAME
//   priority      integer, higher asked first (read by the host)
//   base_url      required, https://host[:port][/path]
//   template      "hf" ({base}/{repo}/resolve/{revision}/{file}, the default), "flat"
//                 ({base}/{cache_key}/{file}) or any text with those placeholders
//   auth_header   the header carrying the credential (default Authorization)
//   auth_prefix   put before the secret, e.g. "Bearer "
//   auth_env      an environment variable holding the secret, else
//   auth_file     a file whose first line is the secret
//   ca_bundle     a PEM file trusted besides the system store
// The host adds `force` for one call (download again).
#include <bitnet/sdk/plugin.hpp>
#include <bitnet/sdk/tokenizer_source.hpp>

#include <boost/json.hpp>

#include "../common/remote.hpp"
#include "../common/settings.hpp"

namespace {

namespace bs = bitnet_sources;
using bitnet::sdk::Error;
using bitnet::sdk::Query;
using bitnet::sdk::SourceResult;

struct Settings {
  std::string name, base_url, url_template, auth_header, auth_prefix, auth_env, auth_file,
      ca_bundle;
  bool force = false;
};

class MirrorSource final : public bitnet::sdk::Source {
 public:
  explicit MirrorSource(Settings s) : s_(std::move(s)) {
    expand({}, {});  // an unknown placeholder is a settings error, found before any download
  }

  std::optional<SourceResult> resolve(const Query& q, std::string& note) override {
    Query query = q;
    if (query.revision.empty()) query.revision = "main";
    const std::string missing = missing_placeholder(query);
    if (!missing.empty()) {
      note = "the template " + s_.url_template + " needs " + missing + ", which is unknown here";
      return std::nullopt;
    }
    bs::Remote remote{"mirror " + s_.name, {}, s_.ca_bundle, s_.force};
    if (query.allow_network && (!s_.auth_env.empty() || !s_.auth_file.empty()))
      remote.headers.emplace_back(s_.auth_header, s_.auth_prefix + secret());
    auto url_for = [&](const std::string& file) { return expand(query, file); };
    const std::string api = s_.url_template == kHfTemplate
                                ? s_.base_url + "/api/models/" + bs::escape_path(query.repo_id) +
                                      "/revision/" + bs::escape_path(query.revision, true)
                                : std::string();
    return bs::fetch_into_cache(remote, query, url_for, api, note);
  }

  static constexpr const char* kHfTemplate = "{base}/{repo}/resolve/{revision}/{file}";

 private:
  std::string value_of(const std::string& key, const Query& q, const std::string& file) const {
    if (key == "base") return s_.base_url;
    if (key == "repo") return bs::escape_path(q.repo_id);
    if (key == "revision") return bs::escape_path(q.revision, true);
    if (key == "cache_key") return bs::escape_path(q.cache_key, true);
    if (key == "file") return bs::escape_path(file);
    throw Error(BITNET_STATUS_INVALID_ARGUMENT, "mirror " + s_.name + ": the template names {" +
                                                    key +
                                                    "}; the placeholders are base, repo, "
                                                    "revision, cache_key and file");
  }

  std::string expand(const Query& q, const std::string& file) const {
    std::string out;
    const std::string& t = s_.url_template;
    for (size_t i = 0; i < t.size();) {
      const size_t close = t[i] == '{' ? t.find('}', i) : std::string::npos;
      if (close == std::string::npos) {
        out += t[i++];
        continue;
      }
      out += value_of(t.substr(i + 1, close - i - 1), q, file);
      i = close + 1;
    }
    return out;
  }

  // A placeholder the query cannot fill: a flat mirror needs a known tokenizer, an HF-style
  // one a repository.
  std::string missing_placeholder(const Query& q) const {
    const std::string& t = s_.url_template;
    if (t.find("{cache_key}") != std::string::npos && (q.cache_key.empty() || !q.file.empty()))
      return "{cache_key} (a known tokenizer)";
    if (t.find("{repo}") != std::string::npos && q.repo_id.empty()) return "{repo}";
    return {};
  }

  std::string secret() const {
    const std::string what = "mirror " + s_.name;
    if (!s_.auth_env.empty()) {
      if (std::string v = bs::env(s_.auth_env.c_str()); !v.empty()) return v;
      if (s_.auth_file.empty())
        throw Error(BITNET_STATUS_PERMISSION_DENIED,
                    what + ": the environment variable " + s_.auth_env +
                        " (auth_env) is not set; set it to the mirror's credential");
    }
    return bs::read_secret_file(s_.auth_file, what);
  }

  Settings s_;
};

struct Factory {
  static std::unique_ptr<bitnet::sdk::Source> create(const char* config) {
    const boost::json::object o = bs::parse_settings(config, "mirror source");
    Settings s;
    s.name = bs::string_setting(o, "name", "mirror source");
    const std::string what = "mirror " + s.name;
    s.base_url = bs::string_setting(o, "base_url", what);
    while (!s.base_url.empty() && s.base_url.back() == '/')
      s.base_url.pop_back();
    if (s.base_url.rfind("https://", 0) != 0)
      throw Error(
          BITNET_STATUS_INVALID_ARGUMENT,
          what + ": \"base_url\" must be an https:// URL, got '" + bs::shown_url(s.base_url) + "'");
    s.url_template = bs::string_setting(o, "template", what);
    if (s.url_template.empty() || s.url_template == "hf")
      s.url_template = MirrorSource::kHfTemplate;
    else if (s.url_template == "flat")
      s.url_template = "{base}/{cache_key}/{file}";
    s.auth_header = bs::string_setting(o, "auth_header", what);
    if (s.auth_header.empty()) s.auth_header = "Authorization";
    s.auth_prefix = bs::string_setting(o, "auth_prefix", what);
    s.auth_env = bs::string_setting(o, "auth_env", what);
    s.auth_file = bs::string_setting(o, "auth_file", what);
    s.ca_bundle = bs::string_setting(o, "ca_bundle", what);
    s.force = bs::bool_setting(o, "force", false, what);
    return std::make_unique<MirrorSource>(std::move(s));
  }
};

bitnet::sdk::Score score() {
  return {10, "an internal mirror, through the host's HTTPS service"};
}

const void* init(const bitnet::sdk::Host&) {
  return bitnet::sdk::source_api<Factory>();
}

constexpr bitnet::sdk::PluginDefinition kPlugin{
    bitnet::sdk::make_info("mirror", BITNET_PLUGIN_VERSION, BITNET_PLUGIN_KIND_TOKENIZER_SOURCE,
                           "tokenizers and models from internal mirrors (HF-style or flat URLs)"),
    &score, &init};

}  // namespace

BITNET_SDK_EXPORT_PLUGIN(kPlugin)

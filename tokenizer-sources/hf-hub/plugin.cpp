// hf-hub: tokenizers and model files from a HuggingFace-compatible hub.
//
// Settings (the config's tokenizer_sources.hub section; every key optional):
//   endpoint      https://host[:port]; HF_ENDPOINT overrides it; default https://huggingface.co
//   ca_bundle     a PEM file trusted besides the system store
//   token_file    where the token is read when HF_TOKEN is not set; default HF_TOKEN_PATH,
//                 else $HF_HOME/token, else ~/.cache/huggingface/token
//   hf_cache      read the standard HF cache ($HF_HUB_CACHE, else $HF_HOME/hub); default true
// Keys the host adds for one call: force (download again), explicit_url (the step is the
// user's --tokenizer https://URL).
//
// A query is answered from the HF cache, then the bitnet cache, then (network allowed) by
// downloading {endpoint}/{repo}/resolve/{revision}/{file} through the host's HTTPS service.
// The token goes out as "Authorization: Bearer" to the endpoint's host only.
#include <bitnet/sdk/plugin.hpp>
#include <bitnet/sdk/tokenizer_source.hpp>

#include <boost/json.hpp>

#include <filesystem>

#include "../common/remote.hpp"
#include "../common/settings.hpp"

namespace {

namespace fs = std::filesystem;
namespace bs = bitnet_sources;
using bitnet::sdk::Error;
using bitnet::sdk::Query;
using bitnet::sdk::SourceResult;

const std::string kWhat = "hf-hub source";

fs::path hf_home() {
  if (const std::string h = bs::env("HF_HOME"); !h.empty()) return h;
  if (const std::string x = bs::env("XDG_CACHE_HOME"); !x.empty())
    return fs::path(x) / "huggingface";
  return fs::path(bs::env("HOME")) / ".cache" / "huggingface";
}

fs::path hf_hub_cache() {
  if (const std::string c = bs::env("HF_HUB_CACHE"); !c.empty()) return c;
  return hf_home() / "hub";
}

// The snapshot folder of repo at revision in the HF cache: refs/<revision> names the commit,
// or the revision is a commit with a snapshot of its own.
std::optional<fs::path> hf_snapshot(const std::string& repo, const std::string& revision) {
  std::string folder = "models--" + repo;
  for (size_t i = 0; (i = folder.find('/', i)) != std::string::npos;)
    folder.replace(i, 1, "--");
  const fs::path root = hf_hub_cache() / folder;
  std::error_code ec;
  // A revision or a ref's commit names one folder under refs/ or snapshots/, never a way out.
  auto inside = [](const std::string& name) {
    return !name.empty() && name.front() != '/' && name.find("..") == std::string::npos;
  };
  if (!inside(revision) || !fs::is_directory(root, ec)) return std::nullopt;
  if (fs::is_directory(root / "snapshots" / revision, ec)) return root / "snapshots" / revision;
  std::optional<std::string> commit;
  try {
    commit = bs::read_secret_file(root / "refs" / revision, kWhat);
  } catch (const Error&) {
    return std::nullopt;
  }
  if (!inside(*commit) || commit->find('/') != std::string::npos) return std::nullopt;
  const fs::path snap = root / "snapshots" / *commit;
  return fs::is_directory(snap, ec) ? std::optional(snap) : std::nullopt;
}

class HubSource final : public bitnet::sdk::Source {
 public:
  explicit HubSource(const boost::json::object& s)
      : endpoint_(bs::env("HF_ENDPOINT")),
        token_file_(bs::string_setting(s, "token_file", kWhat)),
        hf_cache_(bs::bool_setting(s, "hf_cache", true, kWhat)),
        explicit_url_(bs::bool_setting(s, "explicit_url", false, kWhat)) {
    if (endpoint_.empty()) endpoint_ = bs::string_setting(s, "endpoint", kWhat);
    if (endpoint_.empty()) endpoint_ = "https://huggingface.co";
    while (endpoint_.size() > 8 && endpoint_.back() == '/')
      endpoint_.pop_back();
    if (endpoint_.rfind("https://", 0) != 0)
      throw Error(BITNET_STATUS_INVALID_ARGUMENT,
                  kWhat + ": the endpoint " + bs::shown_url(endpoint_) +
                      " is not an https:// URL (HF_ENDPOINT or \"endpoint\" in the hub settings)");
    remote_.label = "the hub (" + bs::shown_url(endpoint_) + ")";
    remote_.ca_bundle = bs::string_setting(s, "ca_bundle", kWhat);
    remote_.force = bs::bool_setting(s, "force", false, kWhat);
  }

  std::optional<SourceResult> resolve(const Query& q, std::string& note) override {
    if (explicit_url_) return from_url(q);
    Query query = q;
    if (query.revision.empty()) query.revision = "main";
    std::string hf_note;
    if (hf_cache_ && !remote_.force && !query.repo_id.empty())
      if (auto found = from_hf_cache(query, hf_note)) return found;
    bs::Remote remote = remote_;
    if (query.allow_network) add_token(remote);
    const std::string rev = bs::escape_path(query.revision, true);
    const std::string repo = bs::escape_path(query.repo_id);
    auto url_for = [&](const std::string& file) {
      return endpoint_ + "/" + repo + "/resolve/" + rev + "/" + bs::escape_path(file);
    };
    const std::string api = endpoint_ + "/api/models/" + repo + "/revision/" + rev;
    std::optional<SourceResult> found = bs::fetch_into_cache(remote, query, url_for, api, note);
    if (!found && !hf_note.empty()) note = hf_note + "; " + note;
    return found;
  }

 private:
  std::optional<SourceResult> from_hf_cache(const Query& q, std::string& note) const {
    const std::optional<fs::path> snap = hf_snapshot(q.repo_id, q.revision);
    if (!snap) {
      note = "not in the HF cache (" + hf_hub_cache().string() + ")";
      return std::nullopt;
    }
    const std::string wanted = q.file.empty() ? "tokenizer.json" : q.file;
    std::vector<fs::path> hits;
    std::error_code ec;
    if (wanted.find('*') == std::string::npos) {
      if (fs::is_regular_file(*snap / bs::checked_file_name(wanted), ec))
        hits.push_back(*snap / wanted);
    } else {
      for (auto it = fs::recursive_directory_iterator(*snap, ec); !ec && it != fs::end(it);
           it.increment(ec))
        if (it->is_regular_file(ec) &&
            bs::glob_match(wanted, fs::relative(it->path(), *snap, ec).generic_string()))
          hits.push_back(it->path());
    }
    if (hits.size() != 1) {
      note = hits.empty() ? "no " + wanted + " in the HF cache's " + snap->string()
                          : "several files match " + wanted + " in " + snap->string();
      return std::nullopt;
    }
    const fs::path& file = hits.front();
    const fs::path config = file.parent_path() / "tokenizer_config.json";
    const bool tokenizer = file.filename() == "tokenizer.json";
    return SourceResult{file.extension() == ".gguf" ? BITNET_TOKENIZER_FORMAT_GGUF
                                                    : BITNET_TOKENIZER_FORMAT_HF_JSON,
                        file.string(),
                        tokenizer && fs::is_regular_file(config, ec) ? config.string() : "",
                        "the HF cache (" + file.string() + ")"};
  }

  // The user's --tokenizer https://URL, kept under <cache>/urls/<hash of the URL>/.
  std::optional<SourceResult> from_url(const Query& q) {
    const std::string& url = q.explicit_path;
    if (url.rfind("https://", 0) != 0)
      throw Error(BITNET_STATUS_INVALID_ARGUMENT,
                  "--tokenizer " + bs::shown_url(url) + " is not an https:// URL");
    uint64_t h = 1469598103934665603ull;  // FNV-1a: a folder name, not a security check
    for (unsigned char c : url)
      h = (h ^ c) * 1099511628211ull;
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
    const fs::path dest = fs::path(q.cache_dir) / "urls" / hex / "tokenizer.json";
    std::error_code ec;
    const std::string shown = bs::shown_url(url);
    if (!remote_.force && fs::is_regular_file(dest, ec))
      return SourceResult{BITNET_TOKENIZER_FORMAT_HF_JSON, dest.string(), config_beside(dest),
                          "the cache (" + dest.string() + ", from " + shown + ")"};
    if (!q.allow_network)
      throw Error(BITNET_STATUS_NETWORK, "--tokenizer " + shown + " is not in the cache (" +
                                             dest.string() +
                                             ") and offline mode forbids downloading it; unset "
                                             "BITNET_OFFLINE/HF_HUB_OFFLINE or give a local file");
    bs::Remote remote = remote_;
    remote.label = "--tokenizer " + shown;
    if (url.rfind(endpoint_ + "/", 0) == 0) add_token(remote);
    std::string note;
    if (!bs::download_file(remote, url, dest, "tokenizer.json", q.n_vocab, note))
      throw Error(BITNET_STATUS_NOT_FOUND, "--tokenizer " + shown +
                                               ": the server has no such file (404); check the "
                                               "URL");
    const std::string base = url.substr(0, url.find_first_of("?#"));
    try {
      bs::download_file(remote, base.substr(0, base.rfind('/') + 1) + "tokenizer_config.json",
                        dest.parent_path() / "tokenizer_config.json", "tokenizer_config.json", 0,
                        note);
    } catch (const Error& e) {
      bitnet::sdk::plugin_host().debug("no tokenizer_config.json beside the URL: ", e.what());
    }
    return SourceResult{BITNET_TOKENIZER_FORMAT_HF_JSON, dest.string(), config_beside(dest), shown};
  }

  static std::string config_beside(const fs::path& file) {
    std::error_code ec;
    const fs::path c = file.parent_path() / "tokenizer_config.json";
    return fs::is_regular_file(c, ec) ? c.string() : std::string();
  }

  void add_token(bs::Remote& remote) const {
    std::string token = bs::env("HF_TOKEN");
    if (token.empty()) {
      fs::path file = token_file_;
      if (file.empty()) file = bs::env("HF_TOKEN_PATH");
      const bool chosen = !file.empty();
      if (file.empty()) file = hf_home() / "token";
      std::error_code ec;
      if (chosen || fs::exists(file, ec)) token = bs::read_secret_file(file, kWhat);
    }
    if (!token.empty()) remote.headers.emplace_back("Authorization", "Bearer " + token);
  }

  std::string endpoint_;
  fs::path token_file_;
  bool hf_cache_, explicit_url_;
  bs::Remote remote_;
};

struct Factory {
  static std::unique_ptr<bitnet::sdk::Source> create(const char* config) {
    return std::make_unique<HubSource>(bs::parse_settings(config, kWhat));
  }
};

bitnet::sdk::Score score() {
  return {10, "downloads through the host's HTTPS service; reads the HF cache"};
}

const void* init(const bitnet::sdk::Host&) {
  return bitnet::sdk::source_api<Factory>();
}

constexpr bitnet::sdk::PluginDefinition kPlugin{
    bitnet::sdk::make_info("hf-hub", BITNET_PLUGIN_VERSION, BITNET_PLUGIN_KIND_TOKENIZER_SOURCE,
                           "tokenizers and models from a HuggingFace-compatible hub and the HF "
                           "cache"),
    &score, &init};

}  // namespace

BITNET_SDK_EXPORT_PLUGIN(kPlugin)

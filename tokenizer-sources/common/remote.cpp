#include "remote.hpp"

#include "checks.hpp"

#include <bitnet/sdk/http.hpp>
#include <bitnet/sdk/plugin.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace bitnet_sources {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using bitnet::sdk::Error;
using bitnet::sdk::Query;
using bitnet::sdk::SourceResult;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  for (char c : s)
    if (c == sep)
      out.emplace_back();
    else
      out.back() += c;
  return out;
}

bool safe_segment(const std::string& s) {
  return !s.empty() && s != "." && s != ".." &&
         s.find_first_of(std::string_view("/\\\0", 3)) == std::string::npos;
}

std::string joined(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const std::string& s : v)
    out.append(out.empty() ? "" : sep).append(s);
  return out;
}

int32_t format_of(const fs::path& p) {
  if (p.extension() == ".gguf") return BITNET_TOKENIZER_FORMAT_GGUF;
  if (p.extension() == ".model") return BITNET_TOKENIZER_FORMAT_SPM_MODEL;
  return BITNET_TOKENIZER_FORMAT_HF_JSON;
}

SourceResult result_for(const fs::path& file, std::string origin) {
  std::error_code ec;
  const fs::path config = file.parent_path() / "tokenizer_config.json";
  const bool has_config = file.filename() == "tokenizer.json" && fs::is_regular_file(config, ec);
  return SourceResult{format_of(file), file.string(), has_config ? config.string() : "",
                      std::move(origin)};
}

// Files already in the cache's folder of the repository whose names match the pattern.
std::vector<std::string> cached_matches(const fs::path& dir, const std::string& pattern) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string rel = fs::relative(it->path(), dir, ec).generic_string();
    const std::string ext = it->path().extension().string();
    if (ext != ".sha256" && ext != ".partial" && glob_match(pattern, rel)) out.push_back(rel);
  }
  std::ranges::sort(out);
  return out;
}

// A failed download must not leave empty folders behind in the cache (a cut one keeps its
// .partial, so its folder stays).
void drop_if_empty(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_empty(dir, ec) && fs::remove(dir, ec) && fs::is_empty(dir.parent_path(), ec))
    fs::remove(dir.parent_path(), ec);
}

void write_checksum(const fs::path& dest, const std::string& sha256) {
  if (sha256.empty()) return;
  std::ofstream(dest.string() + ".sha256") << sha256 << "  " << dest.filename().string() << "\n";
}

}  // namespace

std::string checked_file_name(const std::string& file) {
  if (file.empty() || file.front() == '/')
    throw Error(BITNET_STATUS_INVALID_ARGUMENT,
                "'" + file + "' is not a file name inside a repository");
  for (const std::string& s : split(file, '/'))
    if (!safe_segment(s))
      throw Error(
          BITNET_STATUS_INVALID_ARGUMENT,
          "'" + file + "' is not a file name inside a repository (empty, '.' or '..' part)");
  return file;
}

fs::path repo_dir(const std::string& cache_dir, const std::string& repo,
                  const std::string& revision) {
  const std::vector<std::string> parts = split(repo, '/');
  if (parts.size() != 2 || !safe_segment(parts[0]) || !safe_segment(parts[1]))
    throw Error(BITNET_STATUS_INVALID_ARGUMENT,
                "'" + repo + "' is not a repository name of the form org/name");
  const std::string rev = joined(split(revision.empty() ? "main" : revision, '/'), "--");
  if (!safe_segment(rev))
    throw Error(BITNET_STATUS_INVALID_ARGUMENT, "'" + revision + "' is not a revision name");
  return fs::path(cache_dir) / "repos" / (parts[0] + "--" + parts[1]) / rev;
}

fs::path cache_path(const Query& q, const std::string& file) {
  if (q.file.empty() && !q.cache_key.empty() && safe_segment(q.cache_key))
    return fs::path(q.cache_dir) / "tokenizers" / q.cache_key / checked_file_name(file);
  return repo_dir(q.cache_dir, q.repo_id, q.revision) / checked_file_name(file);
}

bool glob_match(std::string_view pattern, std::string_view name) {
  size_t p = 0, n = 0, star = std::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

std::string shown_url(const std::string& url) {
  std::string out = url.substr(0, url.find_first_of("?#"));
  const size_t host = out.find("://") == std::string::npos ? 0 : out.find("://") + 3;
  const size_t at = out.substr(0, out.find('/', host)).rfind('@');
  if (at != std::string::npos && at >= host) out.erase(host, at + 1 - host);
  return out;
}

bool download_file(const Remote& remote, const std::string& url, const fs::path& dest,
                   const std::string& name, int64_t n_vocab, std::string& note) {
  const bitnet::sdk::Host& host = bitnet::sdk::plugin_host();
  bitnet::sdk::DownloadRequest r;
  r.url = url;
  r.headers = remote.headers;
  r.ca_bundle = remote.ca_bundle;
  r.dest_path = dest.string();
  r.flags = BITNET_HTTP_PROGRESS | (remote.force ? uint32_t{BITNET_HTTP_FORCE} : 0u);
  r.validate = [&](const std::string& path) { return check_file(path, name, n_vocab); };
  host.info("downloading ", shown_url(url), " (", remote.label, ")");
  const bitnet::sdk::DownloadResult d = bitnet::sdk::download(host, r);
  if (d.code != BITNET_STATUS_OK) drop_if_empty(dest.parent_path());
  if (d.code == BITNET_STATUS_NOT_FOUND) {
    note = remote.label + " has no " + shown_url(url) + " (404)";
    return false;
  }
  if (d.code != BITNET_STATUS_OK) throw Error(d.code, d.error);
  write_checksum(dest, d.sha256);
  return true;
}

std::optional<std::vector<std::string>> list_repo(const Remote& remote, const std::string& api_url,
                                                  const fs::path& scratch, std::string& note) {
  const fs::path listing = scratch / ".listing.json";
  Remote fresh = remote;
  fresh.force = true;
  if (!download_file(fresh, api_url, listing, "listing.json", 0, note)) return std::nullopt;
  std::ifstream in(listing, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  in.close();
  std::error_code ec;
  fs::remove(listing, ec);
  fs::remove(listing.string() + ".sha256", ec);
  drop_if_empty(scratch);
  boost::system::error_code jec;
  const json::value v = json::parse(text.str(), jec);
  const json::value* siblings =
      !jec && v.is_object() ? v.as_object().if_contains("siblings") : nullptr;
  if (!siblings || !siblings->is_array())
    throw Error(BITNET_STATUS_DATA_LOSS,
                remote.label + ": " + shown_url(api_url) + " is not a repository listing");
  std::vector<std::string> files;
  for (const json::value& s : siblings->as_array())
    if (const json::value* f = s.is_object() ? s.as_object().if_contains("rfilename") : nullptr;
        f && f->is_string())
      files.emplace_back(f->as_string());
  return files;
}

std::optional<SourceResult> fetch_into_cache(
    const Remote& remote, const Query& q,
    const std::function<std::string(const std::string& file)>& url_for, const std::string& api_url,
    std::string& note) {
  if (q.repo_id.empty() && (!q.file.empty() || q.cache_key.empty())) {
    note =
        "no repository to ask: the model names none and maps to no known tokenizer (give "
        "--repo, or --tokenizer)";
    return std::nullopt;
  }
  // The repository may come from a model's metadata: no '..' or empty part goes into a URL
  // (an old name without an org, such as gpt2, still may).
  for (const std::string& part : split(q.repo_id, '/'))
    if (!q.repo_id.empty() && !safe_segment(part))
      throw Error(BITNET_STATUS_INVALID_ARGUMENT,
                  "'" + q.repo_id + "' is not a repository name of the form org/name");
  std::string wanted = q.file.empty() ? "tokenizer.json" : q.file;
  if (wanted.find('*') != std::string::npos) {
    // Online, the repository's listing decides; offline, what an earlier pull left.
    const fs::path dir = repo_dir(q.cache_dir, q.repo_id, q.revision);
    std::vector<std::string> matches;
    if (q.allow_network && !api_url.empty()) {
      std::optional<std::vector<std::string>> files = list_repo(remote, api_url, dir, note);
      if (!files) return std::nullopt;
      for (const std::string& f : *files)
        if (glob_match(wanted, f)) matches.push_back(f);
      if (matches.empty()) {
        note = q.repo_id + " on " + remote.label + " has no file matching " + wanted +
               " (its files: " + joined(*files) + ")";
        return std::nullopt;
      }
    } else {
      matches = cached_matches(dir, wanted);
      if (matches.empty()) {
        note = q.allow_network
                   ? remote.label + " cannot list a repository's files; name the file (--file)"
                   : "no file matching " + wanted + " in " + dir.string();
        return std::nullopt;
      }
    }
    if (matches.size() > 1)
      throw Error(BITNET_STATUS_INVALID_ARGUMENT, q.repo_id + " has several files matching " +
                                                      wanted + ": " + joined(matches) +
                                                      "; choose one with --file");
    wanted = matches.front();
  }
  const fs::path dest = cache_path(q, wanted);
  std::error_code ec;
  if (!remote.force && fs::is_regular_file(dest, ec))
    return result_for(dest, "the cache (" + dest.string() + ")");
  if (!q.allow_network) {
    note = wanted + " is not in the cache (" + dest.string() + ")";
    return std::nullopt;
  }
  const std::string url = url_for(wanted);
  const bool tokenizer = q.file.empty();
  if (!download_file(remote, url, dest, wanted, tokenizer ? q.n_vocab : 0, note))
    return std::nullopt;
  if (tokenizer) {
    // The config carries BOS/EOS rules and the chat template; a repository may lack it.
    const fs::path config = dest.parent_path() / "tokenizer_config.json";
    std::string ignored;
    try {
      if (remote.force || !fs::is_regular_file(config, ec))
        download_file(remote, url_for("tokenizer_config.json"), config, "tokenizer_config.json", 0,
                      ignored);
    } catch (const Error& e) {
      bitnet::sdk::plugin_host().debug("no tokenizer_config.json: ", e.what());
    }
  }
  return result_for(dest, shown_url(url));
}

}  // namespace bitnet_sources

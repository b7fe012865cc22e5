// What the hf-hub and mirror sources share: where a fetched file belongs in the bitnet cache,
// one download through the host's HTTPS service with the file's checks, listing a repository's
// files through a HuggingFace-style API, and the resolve path "in the cache, else download".
//
// Cache layout (under the query's cache_dir):
//   tokenizers/<cache_key>/tokenizer.json   a known tokenizer, where the host's cache step looks
//   repos/<org>--<name>/<revision>/<file>   anything else: --repo tokenizers, pulled models
// Every downloaded file gets a `<file>.sha256` beside it (sha256sum's format) for `cache verify`.
#pragma once

#include <bitnet/sdk/tokenizer_source.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bitnet_sources {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Remote {
  std::string label;  // "the hub", "mirror corp": for notes and errors
  Headers headers;    // authentication; the host sends them to the URL's host only
  std::string ca_bundle;
  bool force = false;  // download again even when the cache has the file
};

// `file` as a relative path inside a repository: no absolute path, no "..", no empty segment.
// Throws Error(INVALID_ARGUMENT) otherwise.
std::string checked_file_name(const std::string& file);

std::filesystem::path repo_dir(const std::string& cache_dir, const std::string& repo,
                               const std::string& revision);

// Where `file` of the query belongs (see the layout above).
std::filesystem::path cache_path(const bitnet::sdk::Query& q, const std::string& file);

// True when `name` matches `pattern`, where '*' stands for any run of characters.
bool glob_match(std::string_view pattern, std::string_view name);

// The URL without its query string or user:password, for logs and errors.
std::string shown_url(const std::string& url);

// Downloads `url` to `dest`, checked by check_file(name, n_vocab). False with `note` on a 404;
// throws Error for any other failure (the host's message: what, where, what to do).
bool download_file(const Remote& remote, const std::string& url, const std::filesystem::path& dest,
                   const std::string& name, int64_t n_vocab, std::string& note);

// `rfilename` of every sibling in a HuggingFace /api/models answer at `api_url`; nullopt with
// `note` when the API answers 404.
std::optional<std::vector<std::string>> list_repo(const Remote& remote, const std::string& api_url,
                                                  const std::filesystem::path& scratch,
                                                  std::string& note);

// The file the query wants (tokenizer.json, else query.file, which may hold a '*'): from the
// bitnet cache when there (and not forced), else downloaded when the query allows the network.
// url_for maps a file name to its URL; api_url lists the repository ("" when this remote cannot).
std::optional<bitnet::sdk::SourceResult> fetch_into_cache(
    const Remote& remote, const bitnet::sdk::Query& q,
    const std::function<std::string(const std::string& file)>& url_for, const std::string& api_url,
    std::string& note);

}  // namespace bitnet_sources

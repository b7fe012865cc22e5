// The bitnet cache as `bitnet cache list|verify|clean` sees it. The sources write it (see
// tokenizer-sources/common/remote.hpp); its entries are the folders
//   tokenizers/<cache_key>/          a known tokenizer
//   repos/<org>--<name>/<revision>/  files of one repository: tokenizers fetched by --repo, models
//   urls/<hash>/                     a --tokenizer https://URL
// Each downloaded file has `<file>.sha256` beside it; `<file>.partial` is a download to resume.
#pragma once

#include <bitnet/runtime/error.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace bitnet::cache {

struct Entry {
  std::filesystem::path dir;
  std::string kind;                             // tokenizer, repo, url
  std::string name;                             // llama3-128k, org/name@revision, or the URL hash
  std::vector<std::filesystem::path> files;     // complete files, sidecars left out
  std::vector<std::filesystem::path> partials;  // downloads cut short
  int64_t bytes = 0;                            // everything in the folder
  std::filesystem::file_time_type newest{};     // the latest change of any file in it
};

// Every entry, in name order; a cache that does not exist has none.
std::vector<Entry> list(const std::filesystem::path& cache_dir);

struct Problem {
  std::filesystem::path file;
  std::string what;
};

// Each file checked: its SHA-256 against its `.sha256`, a tokenizer.json loaded, a GGUF
// opened (every header field validated). Partial downloads are not problems: see `partials`.
std::vector<Problem> verify(const Entry& entry);

struct Removed {
  int64_t entries = 0, bytes = 0;
};

// Removes the entries unchanged for `older_than` (all when nullopt), and every `.partial`
// of that age too.
Result<Removed> clean(const std::filesystem::path& cache_dir,
                      std::optional<std::chrono::hours> older_than);

}  // namespace bitnet::cache

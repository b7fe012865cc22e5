#include <bitnet/runtime/cache/cache.hpp>
#include <bitnet/runtime/diagnostics/sha256.hpp>
#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/runtime/tokenizer/load.hpp>

#include <algorithm>
#include <fstream>

namespace bitnet::cache {
namespace {

namespace fs = std::filesystem;

Entry scan(const fs::path& dir, std::string kind, std::string name) {
  Entry e{dir, std::move(kind), std::move(name), {}, {}, 0, fs::file_time_type::min()};
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const fs::path& p = it->path();
    e.bytes += static_cast<int64_t>(it->file_size(ec));
    e.newest = std::max(e.newest, it->last_write_time(ec));
    if (p.extension() == ".partial")
      e.partials.push_back(p);
    else if (p.extension() != ".sha256")
      e.files.push_back(p);
  }
  std::ranges::sort(e.files);
  return e;
}

std::vector<fs::path> subdirs(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec))
    if (it->is_directory(ec)) out.push_back(it->path());
  std::ranges::sort(out);
  return out;
}

std::optional<std::string> check_sha256(const fs::path& file) {
  std::ifstream in(file.string() + ".sha256");
  std::string expected;
  if (!(in >> expected)) return std::nullopt;  // not downloaded by a source: nothing to compare
  Result<std::string> actual = diagnostics::sha256_file(file);
  if (!actual) return actual.error().message;
  if (*actual != expected)
    return "SHA-256 " + *actual + " differs from the " + expected +
           " recorded when it was downloaded: the file changed; fetch it again with --force";
  return std::nullopt;
}

}  // namespace

std::vector<Entry> list(const fs::path& cache_dir) {
  std::vector<Entry> out;
  for (const fs::path& d : subdirs(cache_dir / "tokenizers"))
    out.push_back(scan(d, "tokenizer", d.filename().string()));
  for (const fs::path& r : subdirs(cache_dir / "repos")) {
    std::string repo = r.filename().string();
    if (const size_t sep = repo.find("--"); sep != std::string::npos)
      repo =
          repo.substr(0, sep) + "/" + repo.substr(sep + 2);  // replace() trips GCC 12's -Wrestrict
    for (const fs::path& rev : subdirs(r))
      out.push_back(scan(rev, "repo", repo + "@" + rev.filename().string()));
  }
  for (const fs::path& d : subdirs(cache_dir / "urls"))
    out.push_back(scan(d, "url", d.filename().string()));
  return out;
}

std::vector<Problem> verify(const Entry& entry) {
  std::vector<Problem> problems;
  for (const fs::path& f : entry.files) {
    if (std::optional<std::string> bad = check_sha256(f)) {
      problems.push_back({f, *bad});
      continue;
    }
    if (f.filename() == "tokenizer.json") {
      if (Result<tok::VocabData> v = tok::vocab_from_hf_file(f); !v)
        problems.push_back({f, v.error().message});
    } else if (f.extension() == ".gguf") {
      if (Result<gguf::Reader> r = gguf::Reader::open(f); !r)
        problems.push_back({f, r.error().message});
    }
  }
  return problems;
}

Result<Removed> clean(const fs::path& cache_dir, std::optional<std::chrono::hours> older_than) {
  Removed removed;
  const auto now = fs::file_time_type::clock::now();
  auto old_enough = [&](fs::file_time_type t) { return !older_than || now - t >= *older_than; };
  for (const Entry& e : list(cache_dir)) {
    std::error_code ec;
    if (old_enough(e.newest)) {
      fs::remove_all(e.dir, ec);
      if (ec)
        return make_error(BITNET_STATUS_IO, "cannot remove " + e.dir.string() + ": " +
                                                ec.message() + "; check its permissions");
      ++removed.entries;
      removed.bytes += e.bytes;
      continue;
    }
    for (const fs::path& p : e.partials) {
      const auto t = fs::last_write_time(p, ec);
      const auto size = static_cast<int64_t>(fs::file_size(p, ec));
      if (!ec && old_enough(t) && fs::remove(p, ec)) removed.bytes += size;
    }
  }
  return removed;
}

}  // namespace bitnet::cache

#include "hub_files.hpp"

#include <openssl/evp.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <optional>

namespace bitnet_test::hub {
namespace fs = std::filesystem;
namespace {

std::string digest_hex(std::string_view data, const EVP_MD* md) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, md, nullptr);
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < n; ++i) {
    hex += digits[out[i] >> 4];
    hex += digits[out[i] & 15];
  }
  return hex;
}

bool is_hex40(std::string_view s) {
  return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// HF names a revision's commit by its git sha; here any revision name maps to a fixed digest.
std::string commit_of(const std::string& repo, const std::string& revision) {
  return is_hex40(revision) ? revision : digest_hex(repo + "@" + revision, EVP_sha1());
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The path's segments, decoded; empty when one of them could climb out of the root or hide.
std::vector<std::string> segments(std::string_view target) {
  target = target.substr(0, target.find('?'));
  std::vector<std::string> out;
  size_t pos = 1;
  while (pos <= target.size()) {
    const size_t next = std::min(target.find('/', pos), target.size());
    std::string seg = percent_decode(target.substr(pos, next - pos));
    if (seg.empty() || seg[0] == '.' || seg.find('/') != std::string::npos) return {};
    out.push_back(std::move(seg));
    pos = next + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i)
    out += (i > from ? "/" : "") + parts[i];
  return out;
}

Reply not_found(const char* code, const std::string& what) {
  Reply r = status_reply(404, what + " not found");
  r.set_header("X-Error-Code", code);
  return r;
}

// "bytes=N-" or "bytes=N-M" as [first, last]; nothing for any other form (then it is ignored,
// as HTTP allows).
std::optional<std::pair<int64_t, int64_t>> parse_range(std::string_view range, int64_t size) {
  if (range.substr(0, 6) != "bytes=") return std::nullopt;
  const std::string spec(range.substr(6));
  const size_t dash = spec.find('-');
  if (dash == 0 || dash == std::string::npos || spec.find(',') != std::string::npos)
    return std::nullopt;
  try {
    size_t used = 0;
    const int64_t first = std::stoll(spec.substr(0, dash), &used);
    if (used != dash || first < 0) return std::nullopt;
    int64_t last = size - 1;
    if (dash + 1 < spec.size()) {
      last = std::stoll(spec.substr(dash + 1), &used);
      if (used != spec.size() - dash - 1 || last < first) return std::nullopt;
    }
    return std::pair{first, std::min(last, size - 1)};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.pop_back();
  return s;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  return digest_hex(data, EVP_sha256());
}

void Reply::set_header(const std::string& name, std::string value) {
  for (auto& [n, v] : headers)
    if (n == name) {
      v = std::move(value);
      return;
    }
  headers.emplace_back(name, std::move(value));
}

std::string_view Reply::body() const {
  return content ? std::string_view(*content).substr(begin, end - begin) : std::string_view();
}

Reply status_reply(int status, std::string message) {
  Reply r;
  r.status = status;
  r.content = std::make_shared<const std::string>(std::move(message) + "\n");
  r.end = r.content->size();
  r.set_header("Content-Type", "text/plain");
  return r;
}

std::pair<std::shared_ptr<const std::string>, std::string> Files::load(const fs::path& path) const {
  const auto mtime = fs::last_write_time(path);
  std::lock_guard lock(mu_);
  for (auto& [p, c] : cache_)
    if (p == path && c.mtime == mtime) return {c.content, c.sha256};
  auto content = std::make_shared<const std::string>(read_file(path));
  std::string sha = sha256_hex(*content);
  std::erase_if(cache_, [&](const auto& e) { return e.first == path; });
  cache_.emplace_back(path, Cached{mtime, content, sha});
  return {content, sha};
}

Reply Files::answer(std::string_view method, std::string_view target,
                    std::string_view authorization, std::string_view range) const {
  if (method != "GET" && method != "HEAD") return status_reply(405, "only GET and HEAD");
  const std::vector<std::string> seg = segments(target);
  if (seg.empty()) return status_reply(400, "bad path");

  const bool api = seg.size() >= 3 && seg[0] == "api" && seg[1] == "models";
  std::string repo, revision = "main", file;
  if (api) {
    const auto rev = std::find(seg.begin() + 2, seg.end(), "revision");
    repo = join(seg, 2, rev - seg.begin());
    if (rev != seg.end()) revision = join(seg, rev - seg.begin() + 1, seg.size());
    if (revision.empty()) return status_reply(400, "no revision after /revision/");
  } else {
    const auto res = std::find(seg.begin(), seg.end(), "resolve");
    const size_t at = res - seg.begin();
    if (res == seg.end() || at == 0 || at > 2 || seg.size() < at + 3)
      return not_found("EntryNotFound", "route " + std::string(target));
    repo = join(seg, 0, at);
    revision = seg[at + 1];
    file = join(seg, at + 2, seg.size());
  }

  const fs::path repo_dir = root_ / repo;
  if (repo.empty() || !fs::is_directory(repo_dir)) return not_found("RepoNotFound", repo);
  if (fs::exists(repo_dir / ".token")) {
    const std::string want = "Bearer " + trim(read_file(repo_dir / ".token"));
    if (authorization.empty()) return status_reply(401, "this repository needs a token");
    if (authorization != want) return status_reply(403, "this token may not read " + repo);
  }
  const fs::path tree = fs::is_directory(root_ / (repo + "@" + revision))
                            ? root_ / (repo + "@" + revision)
                            : repo_dir;
  const std::string commit = commit_of(repo, revision);

  if (api) {
    std::vector<std::string> names;
    for (const auto& e : fs::recursive_directory_iterator(tree)) {
      const std::string rel = fs::relative(e.path(), tree).generic_string();
      if (e.is_regular_file() && rel.find("/.") == std::string::npos && rel[0] != '.')
        names.push_back(rel);
    }
    std::sort(names.begin(), names.end());
    boost::json::array siblings;
    for (const auto& n : names)
      siblings.push_back(boost::json::object{{"rfilename", n}});
    Reply r;
    r.content = std::make_shared<const std::string>(boost::json::serialize(boost::json::object{
        {"id", repo}, {"modelId", repo}, {"sha", commit}, {"siblings", std::move(siblings)}}));
    r.end = r.content->size();
    r.set_header("Content-Type", "application/json");
    return r;
  }

  const fs::path path = tree / file;
  if (!fs::is_regular_file(path)) return not_found("EntryNotFound", repo + "/" + file);
  auto [content, sha] = load(path);
  Reply r;
  r.is_file = true;
  r.content = content;
  r.sha256 = sha;
  r.file_size = static_cast<int64_t>(content->size());
  r.end = content->size();
  r.set_header("Content-Type", "application/octet-stream");
  r.set_header("Accept-Ranges", "bytes");
  r.set_header("ETag", "\"" + sha + "\"");
  r.set_header("X-Repo-Commit", commit);
  if (auto span = parse_range(range, r.file_size)) {
    if (span->first >= r.file_size) {
      r.status = 416;
      r.begin = r.end = 0;
      r.set_header("Content-Range", "bytes */" + std::to_string(r.file_size));
    } else {
      r.status = 206;
      r.begin = static_cast<size_t>(span->first);
      r.end = static_cast<size_t>(span->second) + 1;
      r.set_header("Content-Range", "bytes " + std::to_string(span->first) + "-" +
                                        std::to_string(span->second) + "/" +
                                        std::to_string(r.file_size));
    }
  }
  return r;
}

}  // namespace bitnet_test::hub

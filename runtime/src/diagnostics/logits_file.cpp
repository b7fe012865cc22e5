#include <bitnet/runtime/atomic_file.hpp>
#include <bitnet/runtime/diagnostics/logits_file.hpp>

#include <boost/json.hpp>

#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace bitnet::diagnostics {
namespace {

namespace json = boost::json;

static_assert(std::endian::native == std::endian::little, "logits files are little-endian");

// A header is a few numbers and the token ids: 64 MiB holds millions of them.
constexpr size_t kMaxHeader = 64u << 20;

Error bad(const std::filesystem::path& path, const std::string& what) {
  return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                    path.string() + ": " + what +
                        "; a logits file is one JSON header line ({\"format\":\"bitnet-logits\","
                        "\"version\":1,\"n_vocab\":V,\"tokens\":[...]}) then float32 rows");
}

}  // namespace

Result<> write_logits_file(const std::filesystem::path& path, const LogitsFile& f) {
  if (f.logits.size() != f.tokens.size() * static_cast<size_t>(f.n_vocab))
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      "logits for " + std::to_string(f.tokens.size()) + " tokens of " +
                          std::to_string(f.n_vocab) + " need that many rows");
  json::object header{{"format", "bitnet-logits"},
                      {"version", 1},
                      {"n_vocab", f.n_vocab},
                      {"tokens", json::value_from(f.tokens)}};
  if (!f.model.empty()) header["model"] = f.model;
  std::string bytes = json::serialize(header) + '\n';
  bytes.append(reinterpret_cast<const char*>(f.logits.data()), f.logits.size() * sizeof(float));
  return write_file_atomically(path, bytes);
}

Result<LogitsFile> read_logits_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error(BITNET_STATUS_NOT_FOUND,
                      "cannot read " + path.string() + ": " + std::strerror(errno));
  std::string line;
  char c;
  while (in.get(c) && c != '\n')
    if (line.size() < kMaxHeader) line.push_back(c);
  if (!in || line.size() >= kMaxHeader) return bad(path, "no header line");
  boost::system::error_code ec;
  const json::value v = json::parse(line, ec);
  const json::object* h = ec ? nullptr : v.if_object();
  if (!h) return bad(path, "the first line is not a JSON object");
  const json::value* format = h->if_contains("format");
  const json::value* version = h->if_contains("version");
  const json::value* n_vocab = h->if_contains("n_vocab");
  const json::value* tokens = h->if_contains("tokens");
  if (!format || !format->is_string() || format->as_string() != "bitnet-logits")
    return bad(path, "\"format\" is not \"bitnet-logits\"");
  if (!version || !version->is_int64() || version->as_int64() != 1)
    return bad(path, "only version 1 is known");
  if (!n_vocab || !n_vocab->is_int64() || n_vocab->as_int64() < 1 ||
      n_vocab->as_int64() > (int64_t{1} << 24))
    return bad(path, "\"n_vocab\" is not a vocabulary size");
  if (!tokens || !tokens->is_array() || tokens->as_array().empty())
    return bad(path, "\"tokens\" is not a non-empty array");
  LogitsFile f;
  f.n_vocab = n_vocab->as_int64();
  for (const json::value& t : tokens->as_array()) {
    if (!t.is_int64() || t.as_int64() < 0 || t.as_int64() >= f.n_vocab)
      return bad(path, "a token id is not a number below n_vocab");
    f.tokens.push_back(static_cast<int32_t>(t.as_int64()));
  }
  if (const json::value* m = h->if_contains("model"); m && m->is_string()) f.model = m->as_string();
  const std::streamoff start = in.tellg();
  in.seekg(0, std::ios::end);
  const uint64_t rest = static_cast<uint64_t>(in.tellg() - start);
  const uint64_t want = f.tokens.size() * static_cast<uint64_t>(f.n_vocab) * sizeof(float);
  if (rest != want)
    return bad(path, std::to_string(rest) + " bytes follow the header, but " +
                         std::to_string(f.tokens.size()) + " rows of " + std::to_string(f.n_vocab) +
                         " float32 are " + std::to_string(want));
  f.logits.resize(want / sizeof(float));
  in.seekg(start);
  in.read(reinterpret_cast<char*>(f.logits.data()), static_cast<std::streamsize>(want));
  if (!in) return bad(path, "the rows could not be read");
  return f;
}

}  // namespace bitnet::diagnostics

#include "header_fields.hpp"

#include "url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace bitnet::net {

bool is_sha256(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string etag_sha256(const std::optional<std::string>& etag) {
  if (!etag) return "";
  std::string_view v = *etag;
  if (v.starts_with("W/")) v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (!is_sha256(v)) return "";
  return lower(v);
}

std::optional<int64_t> parse_count(std::string_view s) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

ContentRange parse_content_range(const std::optional<std::string>& field) {
  ContentRange r;
  if (!field || !field->starts_with("bytes ")) return r;
  const std::string_view v = std::string_view(*field).substr(6);
  const size_t slash = v.find('/'), dash = v.find('-');
  if (slash == std::string_view::npos) return r;
  r.total = parse_count(v.substr(slash + 1));
  if (dash != std::string_view::npos && dash < slash) r.first = parse_count(v.substr(0, dash));
  return r;
}

Result<> check_request_headers(const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& shown_url) {
  for (const auto& [name, value] : headers) {
    const bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c);
    });
    if (!name_ok)
      return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                        "a request header for " + shown_url +
                            " has an empty or invalid name; use letters, digits and '-'");
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                        "the " + name + " header for " + shown_url +
                            " has a line break in its value; remove the trailing newline from "
                            "the token or the file it comes from");
  }
  return {};
}

}  // namespace bitnet::net

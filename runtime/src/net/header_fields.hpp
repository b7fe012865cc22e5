// The header fields a download reads (ETag, Content-Length, Content-Range, Retry-After) and
// the checks on the headers a caller asks to send.
#pragma once

#include <bitnet/runtime/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bitnet::net {

bool is_sha256(std::string_view hex);  // 64 hex digits, either case

// An ETag that is a SHA-256 (HF's LFS files), W/ and quotes stripped, in lower case; else "".
std::string etag_sha256(const std::optional<std::string>& etag);

// A non-negative decimal count (Content-Length, Retry-After seconds), nothing else.
std::optional<int64_t> parse_count(std::string_view text);

// Content-Range: "bytes FIRST-LAST/TOTAL" or "bytes */TOTAL".
struct ContentRange {
  std::optional<int64_t> first, total;
};
ContentRange parse_content_range(const std::optional<std::string>& field);

// Names must be HTTP tokens and values free of CR, LF and NUL: a line break would end the
// header early and smuggle in what follows (a token file's trailing newline is the usual
// cause). Errors name the header, never its value.
Result<> check_request_headers(const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& shown_url);

}  // namespace bitnet::net

// https URLs taken apart for a request, and Location headers resolved against them.
#pragma once

#include <bitnet/runtime/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bitnet::net {

struct Url {
  std::string host;  // without brackets for an IPv6 literal
  uint16_t port = 443;
  std::string target;  // path and query, at least "/"

  // host:port as a Host or CONNECT line needs it (brackets around IPv6, port when not 443).
  std::string authority(bool always_port = false) const;
  std::string text() const;  // the whole URL again, https://...
};

// Accepts https://host[:port][/path][?query]; anything else is INVALID_ARGUMENT.
Result<Url> parse_https_url(std::string_view url);

// A redirect's Location: absolute, scheme-relative (//host/...), absolute path or relative.
Result<Url> resolve_location(const Url& base, std::string_view location);

bool same_origin(const Url& a, const Url& b);

// ASCII lower case: host names, header names and hex digits compare without case.
std::string lower(std::string_view s);

// A decimal TCP port, 1 to 65535, and nothing else.
std::optional<uint16_t> parse_port(std::string_view text);

}  // namespace bitnet::net

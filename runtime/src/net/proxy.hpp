// Which HTTPS proxy a URL goes through: HTTPS_PROXY / https_proxy, minus NO_PROXY / no_proxy.
#pragma once

#include "url.hpp"

#include <bitnet/runtime/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bitnet::net {

struct Proxy {
  std::string host;
  uint16_t port = 80;
  std::string authorization;  // "Basic ..." from user:password in the proxy URL; never logged
  std::string display() const { return host + ":" + std::to_string(port); }
};

// http://[user:password@]host[:port][/] or host[:port]; an https:// proxy is refused.
Result<Proxy> parse_proxy(std::string_view text);

// NO_PROXY's grammar: entries split by commas or spaces; `*` matches every host; a name
// matches itself and its subdomains (a leading `.` or `*.` is ignored); an IPv4 address or
// a.b.c.d/bits range matches addresses; host:port matches that port only.
bool no_proxy_matches(std::string_view no_proxy, const Url& url);

// The proxy for this URL from the environment, or nothing for a direct connection.
Result<std::optional<Proxy>> proxy_for(const Url& url);

}  // namespace bitnet::net

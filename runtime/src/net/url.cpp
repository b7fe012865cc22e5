#include "url.hpp"

#include <bitnet/runtime/net/download.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace bitnet::net {
namespace {

Error bad_url(std::string_view url, std::string_view why) {
  return make_error(BITNET_STATUS_INVALID_ARGUMENT, "bad download URL " + redact_url(url) + ": " +
                                                        std::string(why) +
                                                        "; give an https://host/path URL");
}

}  // namespace

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<uint16_t> parse_port(std::string_view text) {
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || port == 0 || port > 65535)
    return std::nullopt;
  return static_cast<uint16_t>(port);
}

std::string redact_url(std::string_view url) {
  url = url.substr(0, std::min(url.find('?'), url.find('#')));
  const size_t scheme = url.find("://");
  const size_t host_start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const size_t host_end = std::min(url.find('/', host_start), url.size());
  const size_t at = url.substr(0, host_end).rfind('@');
  if (at == std::string_view::npos || at < host_start) return std::string(url);
  return std::string(url.substr(0, host_start)) + std::string(url.substr(at + 1));
}

std::string Url::authority(bool always_port) const {
  const bool ipv6 = host.find(':') != std::string::npos;
  std::string a;
  if (ipv6) a += '[';
  a += host;
  if (ipv6) a += ']';
  if (always_port || port != 443) a.append(":").append(std::to_string(port));
  return a;
}

std::string Url::text() const {
  return "https://" + authority() + target;
}

Result<Url> parse_https_url(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return bad_url(url, "no scheme");
  if (lower(url.substr(0, scheme_end)) != "https")
    return bad_url(url, "only https is allowed, not " + std::string(url.substr(0, scheme_end)));
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('#'));
  const size_t path_start = std::min(rest.find_first_of("/?"), rest.size());
  std::string_view authority = rest.substr(0, path_start);
  if (authority.find('@') != std::string_view::npos)
    return bad_url(url, "user:password in the URL is not supported; send a header instead");
  Url out;
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad_url(url, "unclosed [ in the host");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return bad_url(url, "junk after ]");
    if (!after.empty()) port_text = after.substr(1);
  } else {
    const size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  out.host = lower(out.host);
  if (out.host.empty()) return bad_url(url, "no host");
  if (!port_text.empty()) {
    const auto port = parse_port(port_text);
    if (!port) return bad_url(url, "bad port");
    out.port = *port;
  }
  if (path_start == rest.size() || rest[path_start] != '/') out.target.push_back('/');
  out.target.append(rest.substr(path_start));
  if (std::any_of(out.target.begin(), out.target.end(),
                  [](unsigned char c) { return c <= ' ' || c == 0x7f; }))
    return bad_url(url, "spaces or control characters in the path");
  return out;
}

Result<Url> resolve_location(const Url& base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return parse_https_url(location);
  if (location.starts_with("//")) return parse_https_url("https:" + std::string(location));
  std::string target;
  if (location.starts_with('/')) {
    target = std::string(location);
  } else {
    const std::string path = base.target.substr(0, base.target.find('?'));
    target = path.substr(0, path.rfind('/') + 1) + std::string(location);
  }
  return parse_https_url("https://" + base.authority() + target);
}

bool same_origin(const Url& a, const Url& b) {
  return a.host == b.host && a.port == b.port;
}

}  // namespace bitnet::net

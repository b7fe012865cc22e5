#include "proxy.hpp"

#include <arpa/inet.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace bitnet::net {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

const char* env(const char* upper, const char* lowercase) {
  const char* v = std::getenv(upper);
  if (!v || !*v) v = std::getenv(lowercase);
  return v && *v ? v : nullptr;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned value = 0;
    if (s[i] == '%' && i + 2 < s.size() &&
        std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16).ptr == s.data() + i + 3) {
      out += static_cast<char>(value);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string base64(std::string_view s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<uint32_t> ipv4(const std::string& text) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

bool entry_matches(std::string_view entry, const Url& url) {
  std::string e = lower(trim(entry));
  if (e.empty()) return false;
  if (e == "*") return true;
  // A port only for entries that are not a bare IPv6 address.
  if (const size_t colon = e.rfind(':');
      colon != std::string::npos && std::count(e.begin(), e.end(), ':') == 1) {
    if (e.substr(colon + 1) != std::to_string(url.port)) return false;
    e.resize(colon);
  }
  if (e.starts_with("[") && e.ends_with("]")) e = e.substr(1, e.size() - 2);
  if (const size_t slash = e.find('/'); slash != std::string::npos) {
    const auto net = ipv4(e.substr(0, slash));
    const auto host = ipv4(url.host);
    int bits = -1;
    const std::string_view b = std::string_view(e).substr(slash + 1);
    std::from_chars(b.data(), b.data() + b.size(), bits);
    if (!net || !host || bits < 0 || bits > 32) return false;
    const uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
    return (*net & mask) == (*host & mask);
  }
  if (e.starts_with("*.")) e.erase(0, 1);
  if (e.starts_with(".")) e.erase(0, 1);
  return url.host == e || (url.host.size() > e.size() && url.host.ends_with("." + e));
}

}  // namespace

Result<Proxy> parse_proxy(std::string_view text) {
  std::string_view rest = trim(text);
  auto bad = [&](std::string_view why) {
    return make_error(
        BITNET_STATUS_INVALID_ARGUMENT,
        "HTTPS_PROXY is not a usable proxy URL: " + std::string(why) +
            "; set it to http://host:port (optionally http://user:password@host:port)");
  };
  if (const size_t scheme = rest.find("://"); scheme != std::string_view::npos) {
    const std::string s = lower(rest.substr(0, scheme));
    if (s == "https") return bad("a TLS connection to the proxy itself is not supported");
    if (s != "http") return bad("unknown scheme " + s);
    rest.remove_prefix(scheme + 3);
  }
  rest = rest.substr(0, rest.find('/'));
  Proxy p;
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
    p.authorization = "Basic " + base64(percent_decode(rest.substr(0, at)));
    rest.remove_prefix(at + 1);
  }
  std::string_view port_text;
  if (rest.starts_with('[')) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad("unclosed [");
    p.host = std::string(rest.substr(1, close - 1));
    if (rest.size() > close + 1 && rest[close + 1] == ':') port_text = rest.substr(close + 2);
  } else {
    const size_t colon = rest.find(':');
    p.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
  }
  if (p.host.empty()) return bad("no host");
  if (!port_text.empty()) {
    const auto port = parse_port(port_text);
    if (!port) return bad("bad port");
    p.port = *port;
  }
  return p;
}

bool no_proxy_matches(std::string_view no_proxy, const Url& url) {
  while (!no_proxy.empty()) {
    const size_t sep = std::min(no_proxy.find_first_of(", "), no_proxy.size());
    if (entry_matches(no_proxy.substr(0, sep), url)) return true;
    no_proxy.remove_prefix(std::min(sep + 1, no_proxy.size()));
  }
  return false;
}

Result<std::optional<Proxy>> proxy_for(const Url& url) {
  const char* proxy = env("HTTPS_PROXY", "https_proxy");
  if (!proxy) return std::optional<Proxy>();
  if (const char* no = env("NO_PROXY", "no_proxy"); no && no_proxy_matches(no, url))
    return std::optional<Proxy>();
  auto p = parse_proxy(proxy);
  if (!p) return p.error();
  return std::optional<Proxy>(std::move(*p));
}

}  // namespace bitnet::net

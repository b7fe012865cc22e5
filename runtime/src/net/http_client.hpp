// One GET over TLS (directly or through a CONNECT proxy) with connect and read timeouts; the
// body is streamed to a sink. The only file that includes Asio, Beast and their SSL layer.
#pragma once

#include "proxy.hpp"
#include "url.hpp"

#include <bitnet/runtime/error.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bitnet::net {

struct Request {
  Url url;
  std::vector<std::pair<std::string, std::string>> headers;  // values are never logged
  int64_t range_from = 0;                                    // > 0: Range: bytes=N-
  std::optional<Proxy> proxy;
  std::filesystem::path ca_bundle;
  std::chrono::milliseconds timeout{30'000};
};

struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::optional<std::string> header(std::string_view lower_name) const;
};

enum class Failure {
  none,
  connect,  // resolving, connecting, the proxy, or the TLS handshake went wrong
  refused,  // the certificate or the proxy refused us: retrying will not help
  timeout,  // connecting, or a read (the headers, or the body stalling) took too long
  dropped,  // the connection closed before the whole response came
  stopped   // the sink refused the bytes (a local write failure; it keeps its own error)
};

struct Outcome {
  std::optional<Response> response;  // once the headers came
  Failure failure = Failure::none;
  std::string message;    // what went wrong, naming the host and never a header value
  bool overlong = false;  // bytes followed the end of the body the headers announced
};

// on_response sees the headers and returns whether to read the body into sink; sink returns
// false to stop. A bad CA bundle is an Error; every network outcome is in Outcome.
Result<Outcome> fetch(const Request& request,
                      const std::function<bool(const Response&)>& on_response,
                      const std::function<bool(const char* data, size_t size)>& sink);

}  // namespace bitnet::net

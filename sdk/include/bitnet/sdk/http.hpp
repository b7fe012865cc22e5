// The host's HTTPS download service (bitnet/http.h) for C++ plugins: one call with std types.
// A host older than ABI 1.1 has no such service; the call then fails with UNSUPPORTED.
#pragma once

#include <bitnet/http.h>
#include <bitnet/sdk/host.hpp>

#include <algorithm>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bitnet::sdk {

struct DownloadRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // values are never logged
  std::string ca_bundle;                                     // empty: the system store only
  std::string dest_path;
  std::string expected_sha256;  // empty: the ETag when it is a SHA-256
  int64_t max_bytes = 0;
  uint32_t flags = 0;  // bitnet_http_flags
  // Checks the finished file; a returned message refuses it (and the file is deleted).
  std::function<std::optional<std::string>(const std::string& path)> validate;
};

struct DownloadResult {
  int32_t code = BITNET_STATUS_OK;  // bitnet_status_code
  std::string error;                // what, where, what to do; empty on success
  int32_t http_status = 0;
  int64_t bytes = 0;
  std::string sha256;
};

inline bool can_download(const Host& host) {
  const bitnet_host_services* s = host.services();
  return s && BITNET_HAS_ENTRY(s, bitnet_host_services, http_download);
}

inline DownloadResult download(const Host& host, const DownloadRequest& r) {
  if (!can_download(host))
    return {BITNET_STATUS_UNSUPPORTED,
            "this bitnet host has no download service (it speaks ABI 1.0); update bitnet",
            0,
            0,
            {}};
  std::vector<bitnet_http_header> headers;
  for (const auto& [name, value] : r.headers)
    headers.push_back({name.c_str(), value.c_str()});
  bitnet_http_download_args a{};
  a.struct_size = sizeof(a);
  a.url = r.url.c_str();
  a.headers = headers.empty() ? nullptr : headers.data();
  a.n_headers = headers.size();
  a.ca_bundle = r.ca_bundle.empty() ? nullptr : r.ca_bundle.c_str();
  a.dest_path = r.dest_path.c_str();
  a.expected_sha256 = r.expected_sha256.empty() ? nullptr : r.expected_sha256.c_str();
  a.max_bytes = r.max_bytes;
  a.flags = r.flags;
  // The validator runs inside the host's call: an exception must not cross it.
  auto trampoline = [](void* user, const char* path, char* why, size_t why_size) -> int32_t {
    const auto& check = *static_cast<const DownloadRequest*>(user);
    std::string message;
    try {
      std::optional<std::string> refused = check.validate(path);
      if (!refused) return 0;
      message = std::move(*refused);
    } catch (const std::exception& e) {
      message = e.what();
    } catch (...) {
      message = "the validator failed";
    }
    if (why && why_size) {
      const size_t n = std::min(message.size(), why_size - 1);
      message.copy(why, n);
      why[n] = '\0';
    }
    return 1;
  };
  if (r.validate) {
    a.validate = trampoline;
    a.validate_user = const_cast<DownloadRequest*>(&r);
  }
  const bitnet_host_services* s = host.services();
  DownloadResult out;
  out.code = s->http_download(s->ctx, &a);
  out.http_status = a.http_status;
  if (out.code == BITNET_STATUS_OK) {
    out.bytes = a.bytes;
    out.sha256 = std::string(a.sha256, strnlen(a.sha256, sizeof(a.sha256)));
  } else {
    out.error = std::string(a.error, strnlen(a.error, sizeof(a.error)));
  }
  return out;
}

}  // namespace bitnet::sdk

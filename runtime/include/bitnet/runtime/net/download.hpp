// The runtime's HTTPS client: one file from an https URL into a local path, verified (TLS peer
// and host name, size, SHA-256, a caller's check) before it is moved into place. Source
// plugins reach it through bitnet_host_services.http_download (bitnet/http.h).
//
// Environment: BITNET_DOWNLOAD_TIMEOUT (connect and read timeout in seconds, fractions allowed,
// default 30), BITNET_DOWNLOAD_RETRIES (default 4), BITNET_DOWNLOAD_BACKOFF_MS (first retry
// delay, doubled each time, default 500), HTTPS_PROXY / https_proxy and NO_PROXY / no_proxy,
// BITNET_CA_BUNDLE (a PEM file trusted besides the system store; SSL_CERT_FILE and
// SSL_CERT_DIR replace the system store as in OpenSSL), BITNET_OFFLINE=1 or HF_HUB_OFFLINE=1
// (refuse before any connection).
#pragma once

#include <bitnet/runtime/error.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bitnet::net {

struct DownloadRequest {
  std::string url;                                           // https only
  std::vector<std::pair<std::string, std::string>> headers;  // sent to the URL's host only
  std::filesystem::path ca_bundle;                           // extra trusted PEM; empty: none
  std::filesystem::path dest;   // final path (dest + ".partial" while running)
  std::string expected_sha256;  // 64 hex or empty (then ETag if it is a sha256)
  int64_t max_bytes = 0;        // 0: no limit
  bool progress = false, no_resume = false, force = false;
  // Checks the complete file before it is moved into place; an error message refuses it.
  std::function<std::optional<std::string>(const std::filesystem::path&)> validate;
};

struct Downloaded {
  std::filesystem::path path;
  int64_t bytes = 0;
  std::string sha256;
  int http_status = 0;
};

// Only a whole body reaches dest: one cut short stays as dest + ".partial" and the next call
// resumes it; one of the wrong size or SHA-256, or refused by validate, is deleted (when it
// was a resumed one, the download starts over from zero once first). dest already there is
// returned as it is unless force, or unless its SHA-256 is not expected_sha256.
// Error codes as bitnet/http.h lists them: NOT_FOUND (404), PERMISSION_DENIED (401, 403),
// DATA_LOSS (wrong size or SHA-256, refused by validate), NETWORK (connection, TLS, timeouts,
// 429/5xx after the retries, offline mode), IO (local disk, free space), INVALID_ARGUMENT.
Result<Downloaded> download(const DownloadRequest& request);

// The URL without its query string, fragment or user:password, for logs and errors.
std::string redact_url(std::string_view url);

}  // namespace bitnet::net

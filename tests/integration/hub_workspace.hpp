// What the download tests and the tokenizer-source tests share: a fresh folder, the test
// certificates, the local HTTPS hub serving `dir/hub`, and an environment cleared of the
// machine's proxy, offline, CA and tokenizer settings, with short download timeouts.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "scoped_env.hpp"
#include "test_hub.hpp"

namespace bitnet_test {

inline std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_all(const std::filesystem::path& path, const std::string& data) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

// A file of the real vocabularies the tests fetch (tests/tokenizer/fetch_vocabularies.cmake).
inline std::filesystem::path vocabulary_file(const std::string& relative) {
  const auto path = std::filesystem::path(BITNET_VOCAB_CACHE) / relative;
  BOOST_REQUIRE_MESSAGE(std::filesystem::exists(path),
                        path.string() + " is missing: run ctest -R fetch_vocabularies");
  return path;
}

struct DownloadLimits {
  const char* timeout_s;
  const char* retries;
};

struct HubWorkspace {
  std::filesystem::path dir;
  TestCerts certs;
  std::unique_ptr<TestHub> hub;
  ScopedEnv env;

  HubWorkspace(const std::string& name, DownloadLimits limits) {
    std::string tmpl = "/tmp/bitnet-" + name + "-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(tmpl.data()));
    dir = tmpl;
    certs = make_test_certs(dir / "certs");
    hub = std::make_unique<TestHub>(dir / "hub", certs);
    for (const char* var :
         {"HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "BITNET_OFFLINE", "HF_HUB_OFFLINE",
          "BITNET_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR", "HF_HUB_CACHE", "HF_TOKEN_PATH",
          "BITNET_STRICT_TOKENIZERS", "BITNET_MODEL", "BITNET_LOG"})
      env.unset(var);
    env.set("BITNET_DOWNLOAD_TIMEOUT", limits.timeout_s);
    env.set("BITNET_DOWNLOAD_RETRIES", limits.retries);
    env.set("BITNET_DOWNLOAD_BACKOFF_MS", "1");
  }
  HubWorkspace(const HubWorkspace&) = delete;
  HubWorkspace& operator=(const HubWorkspace&) = delete;
  ~HubWorkspace() {
    hub.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

}  // namespace bitnet_test

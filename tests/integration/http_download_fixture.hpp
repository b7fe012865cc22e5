// A test hub serving a real tokenizer.json, a folder for downloads, and an environment with
// short timeouts and backoff and no proxy or offline settings inherited from the machine.
#pragma once

#include <bitnet/runtime/net/download.hpp>

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

inline const char* const kTokenizerPath = "/meta-llama/Llama-2-7b-hf/resolve/main/tokenizer.json";
inline const char* const kToken = "hf_SecretTestToken0123456789abcdef";

inline std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_all(const std::filesystem::path& path, const std::string& data) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

struct HubFixture {
  std::filesystem::path dir;
  TestCerts certs;
  std::string content;  // the file the hub serves at kTokenizerPath
  std::unique_ptr<TestHub> hub;
  ScopedEnv env;

  HubFixture() {
    const auto vocab = std::filesystem::path(BITNET_VOCAB_CACHE) / "llama2" / "tokenizer.json";
    BOOST_REQUIRE_MESSAGE(std::filesystem::exists(vocab),
                          vocab.string() + " is missing: run ctest -R fetch_vocabularies");
    char tmpl[] = "/tmp/bitnet-http-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(tmpl));
    dir = tmpl;
    content = read_all(vocab);
    write_all(dir / "hub/meta-llama/Llama-2-7b-hf/tokenizer.json", content);
    certs = make_test_certs(dir / "certs");
    hub = std::make_unique<TestHub>(dir / "hub", certs);
    for (const char* name : {"HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "BITNET_OFFLINE",
                             "HF_HUB_OFFLINE", "BITNET_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"})
      env.unset(name);
    env.set("BITNET_DOWNLOAD_TIMEOUT", "10");
    env.set("BITNET_DOWNLOAD_RETRIES", "2");
    env.set("BITNET_DOWNLOAD_BACKOFF_MS", "1");
  }
  ~HubFixture() {
    hub.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  bitnet::net::DownloadRequest request(const std::string& path = kTokenizerPath) const {
    bitnet::net::DownloadRequest r;
    r.url = hub->url() + path;
    r.headers = {{"Authorization", std::string("Bearer ") + kToken}};
    r.ca_bundle = certs.ca_pem;
    r.dest = dir / "out" / "tokenizer.json";
    return r;
  }
  static std::filesystem::path partial(const bitnet::net::DownloadRequest& r) {
    return r.dest.string() + ".partial";
  }
};

inline bool mentions(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A failed download: its code, and an error that never carries the token.
inline void check_error(const bitnet::Result<bitnet::net::Downloaded>& got, int32_t code) {
  BOOST_REQUIRE_MESSAGE(!got.has_value(), "the download should have failed");
  BOOST_TEST(got.error().code == code,
             "code " << got.error().code << " (want " << code << "): " << got.error().message);
  BOOST_TEST(!got.error().message.empty());
  BOOST_TEST(!mentions(got.error().message, kToken));
}

}  // namespace bitnet_test

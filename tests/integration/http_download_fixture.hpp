// A test hub serving a real tokenizer.json and a folder for downloads (hub_workspace.hpp).
#pragma once

#include <bitnet/runtime/net/download.hpp>

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <string>

#include "hub_workspace.hpp"

namespace bitnet_test {

inline const char* const kTokenizerPath = "/meta-llama/Llama-2-7b-hf/resolve/main/tokenizer.json";
inline const char* const kToken = "hf_SecretTestToken0123456789abcdef";

struct HubFixture : HubWorkspace {
  std::string content;  // the file the hub serves at kTokenizerPath

  HubFixture() : HubWorkspace("http", {"10", "2"}) {
    content = read_all(vocabulary_file("llama2/tokenizer.json"));
    write_all(dir / "hub/meta-llama/Llama-2-7b-hf/tokenizer.json", content);
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

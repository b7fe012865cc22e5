// The real `bitnet` CLI against the local HTTPS test hub: HF_ENDPOINT points at it, the hub's
// test CA is trusted through the config's hub section, the bitnet cache, HF_HOME and the config
// live in a fresh folder, and downloads time out and back off fast.
#pragma once

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "cli_runner.hpp"
#include "scoped_env.hpp"
#include "test_hub.hpp"

namespace bitnet_test {

inline const char* const kHubToken = "hf_SourcesTestToken_5f3a9c0e1d";
inline const char* const kLlama2Path = "/NousResearch/Llama-2-7b-hf/resolve/main/tokenizer.json";

inline std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void put_file(const std::filesystem::path& path, const std::string& data) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

struct SourcesHub {
  std::filesystem::path dir, cache, config;
  TestCerts certs;
  std::string llama2;  // the real LLaMA-2 tokenizer.json the hub serves
  std::unique_ptr<TestHub> hub;
  ScopedEnv env;

  SourcesHub() {
    const auto vocab = std::filesystem::path(BITNET_VOCAB_CACHE) / "llama2";
    BOOST_REQUIRE_MESSAGE(std::filesystem::exists(vocab / "tokenizer.json"),
                          vocab.string() + " is missing: run ctest -R fetch_vocabularies");
    char tmpl[] = "/tmp/bitnet-sources-hub-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(tmpl));
    dir = tmpl;
    cache = dir / "cache";
    config = dir / "config.json";
    llama2 = file_text(vocab / "tokenizer.json");
    const std::filesystem::path repo = dir / "hub/NousResearch/Llama-2-7b-hf";
    put_file(repo / "tokenizer.json", llama2);
    put_file(repo / "tokenizer_config.json", file_text(vocab / "tokenizer_config.json"));
    put_file(dir / "hub/private/tok/tokenizer.json", llama2);
    put_file(dir / "hub/private/tok/.token", kHubToken);
    certs = make_test_certs(dir / "certs");
    hub = std::make_unique<TestHub>(dir / "hub", certs);
    write_config("");
    for (const char* name :
         {"HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "BITNET_OFFLINE", "HF_HUB_OFFLINE",
          "BITNET_CA_BUNDLE", "SSL_CERT_FILE", "HF_HUB_CACHE", "HF_TOKEN_PATH",
          "BITNET_STRICT_TOKENIZERS", "BITNET_MODEL", "BITNET_LOG"})
      env.unset(name);
    env.set("BITNET_DOWNLOAD_TIMEOUT", "5");
    env.set("BITNET_DOWNLOAD_RETRIES", "1");
    env.set("BITNET_DOWNLOAD_BACKOFF_MS", "1");
    env.set("HF_ENDPOINT", hub->url());
    env.set("HF_HOME", (dir / "hf").string());
    env.set("HF_TOKEN", kHubToken);
    env.set("BITNET_CACHE_DIR", cache.string());
    env.set("BITNET_CONFIG", config.string());
  }
  ~SourcesHub() {
    hub.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  // The config: the hub trusts the test CA; `more` adds keys to tokenizer_sources.
  void write_config(const std::string& more) const {
    put_file(config, R"({"tokenizer_sources": {"hub": {"ca_bundle": ")" + certs.ca_pem.string() +
                         "\"}" + (more.empty() ? "" : ", " + more) + "}}");
  }

  // A runnable LLaMA model with no tokenizer of its own, `n_vocab` embedding rows; with a
  // repository named in its metadata when `repo` is given.
  std::string model(const std::string& name, int64_t n_vocab = 32000,
                    const std::string& repo = "") const {
    auto w = bitnet::testing::random_model(
        {.arch = "llama", .n_vocab = n_vocab, .embed_tokenizer = false});
    BOOST_REQUIRE_MESSAGE(w.has_value(), (w ? "" : w.error().message));
    if (!repo.empty())
      w->set("general.source.huggingface.repository", bitnet::gguf::Value::string(repo));
    const std::filesystem::path path = dir / "models" / name;
    std::filesystem::create_directories(path.parent_path());
    BOOST_REQUIRE(w->write(path));
    return path.string();
  }

  // Files under the cache, sidecars and all.
  size_t cached_files() const {
    size_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(cache, ec);
         !ec && it != std::filesystem::end(it); it.increment(ec))
      n += it->is_regular_file();
    return n;
  }
};

}  // namespace bitnet_test

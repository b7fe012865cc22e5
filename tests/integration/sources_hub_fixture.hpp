// The real `bitnet` CLI against the local HTTPS test hub: HF_ENDPOINT points at it, the hub's
// test CA is trusted through the config's hub section, the bitnet cache, HF_HOME and the config
// live in the workspace's folder (hub_workspace.hpp).
#pragma once

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <string>

#include "cli_runner.hpp"
#include "hub_workspace.hpp"

namespace bitnet_test {

inline const char* const kHubToken = "hf_SourcesTestToken_5f3a9c0e1d";
inline const char* const kLlama2Path = "/NousResearch/Llama-2-7b-hf/resolve/main/tokenizer.json";

struct SourcesHub : HubWorkspace {
  std::filesystem::path cache, config;
  std::string llama2;  // the real LLaMA-2 tokenizer.json the hub serves

  SourcesHub() : HubWorkspace("sources-hub", {"5", "1"}) {
    cache = dir / "cache";
    config = dir / "config.json";
    llama2 = read_all(vocabulary_file("llama2/tokenizer.json"));
    const std::filesystem::path repo = dir / "hub/NousResearch/Llama-2-7b-hf";
    write_all(repo / "tokenizer.json", llama2);
    write_all(repo / "tokenizer_config.json",
              read_all(vocabulary_file("llama2/tokenizer_config.json")));
    write_all(dir / "hub/private/tok/tokenizer.json", llama2);
    write_all(dir / "hub/private/tok/.token", kHubToken);
    write_config("");
    env.set("HF_ENDPOINT", hub->url());
    env.set("HF_HOME", (dir / "hf").string());
    env.set("HF_TOKEN", kHubToken);
    env.set("BITNET_CACHE_DIR", cache.string());
    env.set("BITNET_CONFIG", config.string());
  }

  // The config: the hub trusts the test CA; `more` adds keys to tokenizer_sources.
  void write_config(const std::string& more) const {
    write_all(config, R"({"tokenizer_sources": {"hub": {"ca_bundle": ")" + certs.ca_pem.string() +
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

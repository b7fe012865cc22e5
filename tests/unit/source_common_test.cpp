// The pieces the hf-hub and mirror sources share: names that must stay inside the cache, the
// '*' patterns of `pull`, and the checks a downloaded file passes before it is accepted.
#include <bitnet/sdk/http.hpp>

#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <filesystem>
#include <fstream>

#include "../../tokenizer-sources/common/checks.hpp"
#include "../../tokenizer-sources/common/remote.hpp"
#include "../../tokenizer-sources/common/settings.hpp"

namespace fs = std::filesystem;
namespace bs = bitnet_sources;

namespace {

struct Dir {
  fs::path path = fs::temp_directory_path() / ("bitnet-source-common-" + std::to_string(getpid()));
  Dir() { fs::create_directories(path); }
  ~Dir() { fs::remove_all(path); }
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return path / name;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(source_common)

BOOST_AUTO_TEST_CASE(names_stay_inside_the_cache) {
  BOOST_TEST(bs::checked_file_name("sub/model.gguf") == "sub/model.gguf");
  for (const char* bad : {"", "/etc/passwd", "../x", "a/../../x", "a//b", "./x", "a\\b"})
    BOOST_CHECK_THROW(bs::checked_file_name(bad), bitnet::sdk::Error);
  BOOST_TEST(bs::repo_dir("/c", "org/name", "refs/pr/1") ==
             fs::path("/c/repos/org--name/refs--pr--1"));
  BOOST_TEST(bs::repo_dir("/c", "org/name", "") == fs::path("/c/repos/org--name/main"));
  for (const char* bad : {"name", "a/b/c", "../b", "a/..", "/b"})
    BOOST_CHECK_THROW(bs::repo_dir("/c", bad, "main"), bitnet::sdk::Error);
  bitnet::sdk::Query q;
  q.cache_dir = "/c";
  q.cache_key = "llama3-128k";
  q.repo_id = "org/name";
  BOOST_TEST(bs::cache_path(q, "tokenizer.json") ==
             fs::path("/c/tokenizers/llama3-128k/tokenizer.json"));
  q.file = "m.gguf";  // a file of the repository never goes under a tokenizer's key
  BOOST_TEST(bs::cache_path(q, "m.gguf") == fs::path("/c/repos/org--name/main/m.gguf"));
  q.file.clear();
  q.cache_key = "../..";  // a key is one folder name, never a way out of tokenizers/
  BOOST_TEST(bs::cache_path(q, "tokenizer.json") ==
             fs::path("/c/repos/org--name/main/tokenizer.json"));
}

BOOST_AUTO_TEST_CASE(a_repository_from_model_metadata_is_checked_before_any_url) {
  bitnet::sdk::Query q;
  q.cache_dir = "/nonexistent-bitnet-cache";
  q.cache_key = "llama2-32k";  // a known tokenizer's path would not look at the repository
  q.repo_id = "org/../../elsewhere";
  std::string note;
  BOOST_CHECK_THROW(
      bs::fetch_into_cache(
          bs::Remote{}, q, [](const std::string& f) { return "https://h/" + f; }, "", note),
      bitnet::sdk::Error);
}

BOOST_AUTO_TEST_CASE(patterns_and_urls) {
  BOOST_TEST(bs::glob_match("*.gguf", "ggml-model-i2_s.gguf"));
  BOOST_TEST(bs::glob_match("*i2_s*.gguf", "x-i2_s-y.gguf"));
  BOOST_TEST(!bs::glob_match("*.gguf", "model.gguf.sha256"));
  BOOST_TEST(!bs::glob_match("*.gguf", "README.md"));
  BOOST_TEST(bs::glob_match("exact.json", "exact.json"));
  BOOST_TEST(!bs::glob_match("exact.json", "exact.jsonx"));
  BOOST_TEST(bs::shown_url("https://h/p/t.json?sig=SECRET#f") == "https://h/p/t.json");
  BOOST_TEST(bs::shown_url("https://user:SECRET@h:8443/p/t.json") == "https://h:8443/p/t.json");
  BOOST_TEST(bs::shown_url("https://h/p/a@b.json") == "https://h/p/a@b.json");
  BOOST_TEST(bs::escape_path("a b/c%d") == "a%20b/c%25d");
  BOOST_TEST(bs::escape_path("refs/pr/1", true) == "refs%2Fpr%2F1");
}

BOOST_AUTO_TEST_CASE(downloaded_files_are_checked_by_kind) {
  Dir d;
  const fs::path bpe = d.write(
      "tokenizer.json",
      R"({"model": {"vocab": {"a": 0, "b": 1}}, "added_tokens": [{"id": 9, "content": "<s>"}]})");
  BOOST_TEST(bs::count_tokenizer_json(bpe).tokens == 10);
  BOOST_TEST(!bs::check_file(bpe, "tokenizer.json", 10));
  BOOST_TEST(!bs::check_file(bpe, "tokenizer.json", 0));  // unknown size: not checked
  const auto too_big = bs::check_file(bpe, "tokenizer.json", 9);
  BOOST_REQUIRE(too_big);
  BOOST_TEST(too_big->find("it has 10 tokens but the model's embedding has 9 rows") == 0u);
  const fs::path unigram =
      d.write("u.json", R"({"model": {"vocab": [["a", -1.0], ["b", -2.0], ["c", -3.0]]}})");
  BOOST_TEST(bs::count_tokenizer_json(unigram).tokens == 3);
  BOOST_TEST(bs::check_file(d.write("x.json", "{\"model\": "), "tokenizer.json", 0)
                 ->starts_with("not valid JSON ("));
  BOOST_TEST(*bs::check_file(d.write("y.json", "[]"), "tokenizer.json", 0) ==
             "not a tokenizer.json (no model.vocab)");
  BOOST_TEST(*bs::check_file(d.write("z.json", "[]"), "tokenizer_config.json", 0) ==
             "not a JSON object");
  BOOST_TEST(*bs::check_file(d.write("m.gguf", "<html>"), "m.gguf", 0) ==
             "not a GGUF file (no magic)");
  BOOST_TEST(!bs::check_file(d.write("n.gguf", "GGUF\x03"), "sub/n.gguf", 0));
  BOOST_TEST(!bs::check_file(d.write("r.md", "anything"), "README.md", 0));
}

BOOST_AUTO_TEST_CASE(secrets_come_from_files_without_being_shown) {
  Dir d;
  BOOST_TEST(bs::read_secret_file(d.write("t", "  hf_abc \n second line"), "test") == "hf_abc");
  try {
    bs::read_secret_file(d.path / "absent", "mirror corp");
    BOOST_FAIL("no error");
  } catch (const bitnet::sdk::Error& e) {
    BOOST_TEST(e.code() == BITNET_STATUS_PERMISSION_DENIED);
    BOOST_TEST(std::string(e.what()).find("mirror corp: cannot read the secret file") == 0u);
  }
  BOOST_CHECK_THROW(bs::parse_settings("[1]", "hub"), bitnet::sdk::Error);
  BOOST_CHECK_THROW(bs::bool_setting(bs::parse_settings(R"({"f": 1})", "hub"), "f", false, "hub"),
                    bitnet::sdk::Error);
}

BOOST_AUTO_TEST_CASE(a_host_without_the_download_service_is_refused_plainly) {
  bitnet::sdk::DownloadRequest r;
  r.url = "https://hub.example/x";
  r.dest_path = "/tmp/never-written";
  const bitnet::sdk::DownloadResult none = bitnet::sdk::download(bitnet::sdk::Host(), r);
  BOOST_TEST(none.code == BITNET_STATUS_UNSUPPORTED);
  BOOST_TEST(none.error.find("no download service") != std::string::npos, none.error);
  // An ABI 1.0 host's table ends before the entry.
  bitnet_host_services old{};
  old.struct_size = offsetof(bitnet_host_services, http_download);
  BOOST_TEST(!bitnet::sdk::can_download(bitnet::sdk::Host(&old)));
  BOOST_TEST(!fs::exists("/tmp/never-written"));
}

BOOST_AUTO_TEST_SUITE_END()

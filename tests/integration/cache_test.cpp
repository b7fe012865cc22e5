// The bitnet cache: `bitnet cache list|verify|clean` on a cache laid out as the sources write
// it, and `bitnet run --model REPO[:FILE]` finding a pulled model there with no network.
#include <bitnet/runtime/cache/cache.hpp>
#include <bitnet/runtime/diagnostics/sha256.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

#include "cli_runner.hpp"
#include "hf_checkpoint.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace bitnet_test;

namespace {

struct Cache {
  fs::path root = fs::temp_directory_path() / ("bitnet-cache-test-" + std::to_string(getpid()));
  fs::path dir = root / "cache";
  std::string env = "BITNET_CACHE_DIR='" + dir.string() + "' BITNET_CONFIG='" +
                    (root / "config.json").string() + "' HF_HOME='" + (root / "hf").string() +
                    "' BITNET_OFFLINE=1";
  Cache() {
    fs::remove_all(root);
    fs::create_directories(root);
    std::ofstream(root / "config.json") << "{}";
  }
  ~Cache() { fs::remove_all(root); }

  // A file as a source leaves it: the bytes and `<file>.sha256`.
  fs::path put(const fs::path& rel, const std::string& text) {
    const fs::path p = dir / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    record_sha(p);
    return p;
  }
  static void record_sha(const fs::path& p) {
    std::ofstream(p.string() + ".sha256")
        << bitnet::diagnostics::sha256_file(p).value() << "  " << p.filename().string() << "\n";
  }
};

const std::string kTokenizer = json::serialize(
    byte_level_tokenizer_json(json::object{{"a", 0}, {"b", 1}, {"ab", 2}}, json::array{"a b"}));

}  // namespace

BOOST_AUTO_TEST_SUITE(cache)

BOOST_AUTO_TEST_CASE(list_verify_and_clean) {
  Cache c;
  c.put("tokenizers/llama2-32k/tokenizer.json", kTokenizer);
  const fs::path model = c.dir / "repos/org--tiny/main/tiny.gguf";
  fs::create_directories(model.parent_path());
  write_random_model(model, {.arch = "llama"});
  Cache::record_sha(model);
  std::ofstream(model.parent_path() / "other.gguf.partial") << "GGUF";

  std::vector<bitnet::cache::Entry> entries = bitnet::cache::list(c.dir);
  BOOST_REQUIRE_EQUAL(entries.size(), 2u);
  BOOST_TEST(entries[0].kind == "tokenizer");
  BOOST_TEST(entries[0].name == "llama2-32k");
  BOOST_TEST(entries[1].name == "org/tiny@main");
  BOOST_TEST(entries[1].files.size() == 1u);  // sidecars and partials are not files
  BOOST_TEST(entries[1].partials.size() == 1u);
  for (const auto& e : entries)
    BOOST_TEST(bitnet::cache::verify(e).empty());

  // A byte changed after the download: the recorded SHA-256 catches it.
  { std::ofstream(model, std::ios::binary | std::ios::in | std::ios::out).seekp(100).put('\x7f'); }
  const auto problems = bitnet::cache::verify(bitnet::cache::list(c.dir)[1]);
  BOOST_REQUIRE_EQUAL(problems.size(), 1u);
  BOOST_TEST(problems[0].what.find("differs from the") != std::string::npos, problems[0].what);
  Run v = run_cli("cache verify", c.env);
  BOOST_TEST(v.exit_code == 1, v.out);
  BOOST_TEST(contains(v.out, "FAIL " + model.string()), v.out);
  BOOST_TEST(contains(v.out, "other.gguf.partial: an unfinished download"), v.out);
  BOOST_TEST(contains(v.out, "1 of 2 files ok"), v.out);

  // A tokenizer.json that is no tokenizer (and was never downloaded: no .sha256).
  fs::create_directories(c.dir / "tokenizers/broken");
  std::ofstream(c.dir / "tokenizers/broken/tokenizer.json") << "{\"model\": 3}";
  BOOST_TEST(bitnet::cache::verify(bitnet::cache::list(c.dir)[0]).size() == 1u);

  Run l = run_cli("cache list --json", c.env);
  BOOST_REQUIRE_MESSAGE(l.exit_code == 0, l.out);
  const json::value j = json::parse(l.out.substr(0, l.out.find('\n')));
  BOOST_TEST(j.at("entries").as_array().size() == 3u);
  BOOST_TEST(j.at("cache_dir").as_string() == c.dir.string());

  // --older-than keeps what changed recently; without it everything goes.
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(24 * 40);
  for (const auto& f : fs::recursive_directory_iterator(c.dir / "tokenizers/llama2-32k"))
    fs::last_write_time(f.path(), old);
  Run cleaned = run_cli("cache clean --older-than 30", c.env);
  BOOST_TEST(cleaned.exit_code == 0, cleaned.out);
  BOOST_TEST(contains(cleaned.out, "removed 1 entries"), cleaned.out);
  BOOST_TEST(!fs::exists(c.dir / "tokenizers/llama2-32k"));
  BOOST_TEST(fs::exists(model));
  // Days past the file clock's range are refused, not wrapped round into "everything is old".
  BOOST_TEST(run_cli("cache clean --older-than 200000", c.env).exit_code == 2);
  BOOST_TEST(!bitnet::cache::list(c.dir).empty());
  BOOST_TEST(run_cli("cache clean", c.env).exit_code == 0);
  BOOST_TEST(bitnet::cache::list(c.dir).empty());
  BOOST_TEST(run_cli("cache frobnicate", c.env).exit_code == 2);
}

BOOST_AUTO_TEST_CASE(run_finds_a_pulled_model_by_its_repository) {
  Cache c;
  const fs::path model = c.dir / "repos/org--tiny/main/tiny.gguf";
  fs::create_directories(model.parent_path());
  write_random_model(model, {.arch = "llama"});
  const std::string args = " --prompt hi --max-tokens 2 --greedy";

  Run by_name = run_cli("run --model org/tiny" + args, c.env);
  BOOST_TEST(by_name.exit_code == 0, by_name.out);
  Run by_file = run_cli("run --model org/tiny:tiny.gguf" + args, c.env);
  BOOST_TEST(by_file.exit_code == 0, by_file.out);
  // The same model: the same greedy text (stdout's first line; stderr carries timings).
  BOOST_TEST(by_file.out.substr(0, by_file.out.find('\n')) ==
             by_name.out.substr(0, by_name.out.find('\n')));

  // Two GGUFs: the name alone is ambiguous, and the error lists them.
  fs::copy_file(model, model.parent_path() / "tiny-f32.gguf");
  Run two = run_cli("run --model org/tiny" + args, c.env);
  BOOST_TEST(two.exit_code == 1);
  BOOST_TEST(contains(two.out, "several files matching *.gguf: tiny-f32.gguf, tiny.gguf"), two.out);

  // Not pulled: offline, nothing is downloaded and the error says how to get it.
  Run missing = run_cli("run --model org/absent" + args, c.env);
  BOOST_TEST(missing.exit_code == 1);
  BOOST_TEST(contains(missing.out, "bitnet pull org/absent"), missing.out);
  BOOST_TEST(contains(missing.out, "offline"), missing.out);
  // A path that does not exist stays a path.
  Run path = run_cli("run --model ./nowhere/m.gguf" + args, c.env);
  BOOST_TEST(path.exit_code == 1);
  BOOST_TEST(!contains(path.out, "bitnet pull"), path.out);
}

BOOST_AUTO_TEST_SUITE_END()

// `bitnet pull` and `bitnet tokenizer pre-download` through the real CLI against the local
// test hub: a repository's single GGUF found through /api/models, checked against its ETag,
// resumed after a cut, placed --into a folder, then run by name with no network.
#include <boost/test/unit_test.hpp>

#include "sources_hub_fixture.hpp"

namespace fs = std::filesystem;
using namespace bitnet_test;

BOOST_AUTO_TEST_SUITE(cli_pull)

BOOST_FIXTURE_TEST_CASE(pull_then_run_by_name, SourcesHub) {
  const fs::path served = dir / "hub/org/tiny-gguf/tiny-i2_s.gguf";
  fs::create_directories(served.parent_path());
  write_random_model(served, {.arch = "bitnet-b1.58"});
  write_all(dir / "hub/org/tiny-gguf/README.md", "# tiny");

  Run p = run_cli("pull org/tiny-gguf");
  BOOST_REQUIRE_MESSAGE(p.exit_code == 0, p.out);
  const fs::path pulled = cache / "repos/org--tiny-gguf/main/tiny-i2_s.gguf";
  BOOST_TEST(read_all(pulled) == read_all(served));
  BOOST_TEST(contains(p.out, "run it with: bitnet run --model org/tiny-gguf"), p.out);
  bool listed = false;
  for (const SeenRequest& s : hub->requests())
    listed |= s.target == "/api/models/org/tiny-gguf/revision/main";
  BOOST_TEST(listed);
  BOOST_TEST(!fs::exists(cache / "repos/org--tiny-gguf/main/.listing.json"));

  const size_t n = hub->requests().size();
  Run r =
      run_cli("run --model org/tiny-gguf --prompt hi --max-tokens 2 --greedy", "BITNET_OFFLINE=1");
  BOOST_TEST(r.exit_code == 0, r.out);
  BOOST_TEST(hub->requests().size() == n);
  BOOST_TEST(run_cli("cache verify").exit_code == 0);

  // --file and --into: the same bytes in the folder; nothing downloaded again.
  Run into =
      run_cli("pull org/tiny-gguf --file tiny-i2_s.gguf --into " + (dir / "models").string());
  BOOST_TEST(into.exit_code == 0, into.out);
  BOOST_TEST(read_all(dir / "models/tiny-i2_s.gguf") == read_all(served));
  BOOST_TEST(hub->requests().size() == n);
  // Again into the same folder (a hard link to the cached file is there already), and into the
  // cache's own folder: the file stays as it is, with no temporary left beside it.
  for (const fs::path& folder : {dir / "models", pulled.parent_path()}) {
    Run again = run_cli("pull org/tiny-gguf --into " + folder.string());
    BOOST_TEST(again.exit_code == 0, again.out);
    BOOST_TEST(read_all(folder / "tiny-i2_s.gguf") == read_all(served));
    for (const auto& entry : fs::directory_iterator(folder))
      BOOST_TEST(!contains(entry.path().filename().string(), ".partial"), entry.path());
  }
}

BOOST_FIXTURE_TEST_CASE(pull_refuses_what_it_cannot_trust, SourcesHub) {
  const fs::path served = dir / "hub/org/m/model.gguf";
  fs::create_directories(served.parent_path());
  write_random_model(served, {.arch = "llama"});
  const std::string path = "/org/m/resolve/main/model.gguf";

  // Cut mid-body: a .partial stays; the next pull resumes it with Range.
  hub->push_fault(path, Fault{.kind = Fault::drop_after, .bytes = 4096});
  Run cut = run_cli("pull org/m --file model.gguf", "BITNET_DOWNLOAD_RETRIES=0");
  BOOST_TEST(cut.exit_code == 1, cut.out);
  const fs::path dest = cache / "repos/org--m/main/model.gguf";
  BOOST_TEST(!fs::exists(dest));
  BOOST_TEST(fs::file_size(dest.string() + ".partial") == 4096u);
  hub->clear_requests();
  Run resumed = run_cli("pull org/m --file model.gguf");
  BOOST_TEST(resumed.exit_code == 0, resumed.out);
  BOOST_TEST(hub->requests().at(0).range == "bytes=4096-");
  BOOST_TEST(read_all(dest) == read_all(served));

  // Wrong bytes under the right headers: the ETag's SHA-256 refuses them; nothing is kept.
  hub->push_fault(path, Fault{.kind = Fault::wrong_bytes});
  Run wrong = run_cli("pull org/m --file model.gguf --force", "BITNET_DOWNLOAD_RETRIES=0");
  BOOST_TEST(wrong.exit_code == 1, wrong.out);
  BOOST_TEST(read_all(dest) == read_all(served));  // the earlier good copy stays
  BOOST_TEST(!fs::exists(dest.string() + ".partial"));

  // Not a GGUF at all, with honest headers: the source's check refuses it.
  hub->push_fault(path, Fault{.kind = Fault::replace_body, .body = "<html>login</html>"});
  Run html = run_cli("pull org/m --file model.gguf --force --into " + (dir / "into").string());
  BOOST_TEST(html.exit_code == 1);
  BOOST_TEST(contains(html.out, "not a GGUF file"), html.out);
  BOOST_TEST(!fs::exists(dir / "into" / "model.gguf"));

  // Several GGUFs: the error lists them; a missing file and repository are named.
  write_random_model(served.parent_path() / "model-f16.gguf", {.arch = "llama"});
  Run two = run_cli("pull org/m");
  BOOST_TEST(two.exit_code == 1);
  BOOST_TEST(contains(two.out, "several files matching *.gguf: model-f16.gguf, model.gguf"),
             two.out);
  Run absent = run_cli("pull org/m --file nope.gguf");
  BOOST_TEST(absent.exit_code == 1);
  BOOST_TEST(contains(absent.out, "(404)"), absent.out);
  // Offline: refused before any connection.
  const size_t before = hub->connections();
  Run off = run_cli("pull org/other", "BITNET_OFFLINE=1");
  BOOST_TEST(off.exit_code == 1);
  BOOST_TEST(contains(off.out, "offline mode is on"), off.out);
  BOOST_TEST(hub->connections() == before);
}

BOOST_FIXTURE_TEST_CASE(pre_download_a_folder_of_models, SourcesHub) {
  model("a/llama2-sized.gguf");
  fs::create_directories(dir / "models/b");
  write_random_model(dir / "models/b/embedded.gguf", {.arch = "llama"});
  Run r = run_cli("tokenizer pre-download --model-dir " + (dir / "models").string());
  BOOST_TEST(r.exit_code == 0, r.out);
  BOOST_TEST(contains(r.out, "llama2-sized.gguf: ok, hub:"), r.out);
  BOOST_TEST(contains(r.out, "embedded.gguf: ok, embedded:"), r.out);
  BOOST_TEST(contains(r.out, "2 of 2 models have a tokenizer"), r.out);
  BOOST_TEST(fs::exists(cache / "tokenizers/llama2-32k/tokenizer.json"));
  model("c/odd.gguf", 1000);
  Run odd = run_cli("tokenizer pre-download --model-dir " + (dir / "models").string());
  BOOST_TEST(odd.exit_code == 1);
  BOOST_TEST(contains(odd.out, "odd.gguf: FAIL no tokenizer"), odd.out);
}

BOOST_AUTO_TEST_SUITE_END()

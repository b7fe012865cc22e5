// Tokenizers from the network through the real CLI, the hf-hub and mirror plugins and the
// host's HTTPS client, against the local test hub: fetch, --auto-download, mirrors, strict
// listing, --tokenizer https://URL, and every failure leaving nothing in the cache but a
// resumable .partial.
#include <boost/test/unit_test.hpp>

#include "sources_hub_fixture.hpp"

namespace fs = std::filesystem;
using namespace bitnet_test;

namespace {

const std::string kRunArgs = " --prompt hello --max-tokens 2 --greedy";

fs::path llama2_cache(const SourcesHub& h) {
  return h.cache / "tokenizers" / "llama2-32k";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tokenizer_fetch)

BOOST_FIXTURE_TEST_CASE(fetch_then_run_offline_from_the_cache, SourcesHub) {
  const std::string m = model("m.gguf");
  // Without --auto-download nothing touches the network and the error says what to do.
  Run before = run_cli("run --model " + m + kRunArgs);
  BOOST_TEST(before.exit_code == 1);
  BOOST_TEST(contains(before.out, "downloading needs --auto-download"), before.out);
  BOOST_TEST(hub->connections() == 0u);

  Run fetched = run_cli("tokenizer fetch --model " + m);
  BOOST_REQUIRE_MESSAGE(fetched.exit_code == 0, fetched.out);
  BOOST_TEST(contains(fetched.out, (llama2_cache(*this) / "tokenizer.json").string()), fetched.out);
  BOOST_TEST(read_all(llama2_cache(*this) / "tokenizer.json") == llama2);
  BOOST_TEST(fs::exists(llama2_cache(*this) / "tokenizer.json.sha256"));
  BOOST_TEST(fs::exists(llama2_cache(*this) / "tokenizer_config.json"));
  const auto seen = hub->requests();
  BOOST_REQUIRE(!seen.empty());
  BOOST_TEST(seen[0].target == kLlama2Path);
  BOOST_TEST(seen[0].authorization == std::string("Bearer ") + kHubToken);

  // Offline, the cache step serves it; a second fetch downloads nothing, --force does.
  const size_t n = hub->requests().size();
  Run offline = run_cli("run --model " + m + kRunArgs, "BITNET_OFFLINE=1");
  BOOST_TEST(offline.exit_code == 0, offline.out);
  BOOST_TEST(run_cli("tokenizer fetch --model " + m).exit_code == 0);
  BOOST_TEST(hub->requests().size() == n);
  BOOST_TEST(run_cli("tokenizer fetch --force --model " + m).exit_code == 0);
  BOOST_TEST(hub->requests().size() > n);

  Run into = run_cli("tokenizer fetch --repo NousResearch/Llama-2-7b-hf --into " +
                     (dir / "into").string());
  BOOST_TEST(into.exit_code == 0, into.out);
  BOOST_TEST(read_all(dir / "into" / "tokenizer.json") == llama2);
  BOOST_TEST(fs::exists(dir / "into" / "tokenizer_config.json"));
  BOOST_TEST(fs::exists(cache / "repos/NousResearch--Llama-2-7b-hf/main/tokenizer.json"));
}

BOOST_FIXTURE_TEST_CASE(auto_download_runs_and_the_token_never_shows, SourcesHub) {
  const std::string m = model("m.gguf");
  Run r = run_cli("--log trace run --auto-download --model " + m + kRunArgs);
  BOOST_TEST(r.exit_code == 0, r.out);
  BOOST_TEST(fs::exists(llama2_cache(*this) / "tokenizer.json"));
  BOOST_TEST(!contains(r.out, kHubToken));
  // Refused with a wrong token, at trace level: still never in any line.
  Run wrong = run_cli("--log trace tokenizer fetch --repo private/tok", "HF_TOKEN=hf_wrong_secret");
  BOOST_TEST(wrong.exit_code == 1);
  BOOST_TEST(contains(wrong.out, "403"), wrong.out);
  BOOST_TEST(!contains(wrong.out, "hf_wrong_secret"), wrong.out);
  // The token from a file (HF_TOKEN_PATH) opens the gated repository.
  write_all(dir / "token", std::string(kHubToken) + "\n");
  Run file = run_cli("--log trace tokenizer fetch --repo private/tok",
                     "HF_TOKEN= HF_TOKEN_PATH='" + (dir / "token").string() + "'");
  BOOST_TEST(file.exit_code == 0, file.out);
  BOOST_TEST(!contains(file.out, kHubToken), file.out);
}

BOOST_FIXTURE_TEST_CASE(failures_leave_nothing_in_the_cache, SourcesHub) {
  const std::string m = model("m.gguf");
  auto fetch_fails = [&](const std::string& args, const std::string& expected,
                         const std::string& env = "") {
    Run r = run_cli("tokenizer fetch " + args, env);
    BOOST_TEST(r.exit_code == 1, args << ": " << r.out);
    BOOST_TEST(contains(r.out, expected), args << ": " << r.out);
    BOOST_TEST(!contains(r.out, kHubToken));
    BOOST_TEST(cached_files() == 0u, args << ": something stayed in the cache");
  };
  fetch_fails("--repo org/absent", "(404)");
  // Without the hub's CA in the settings its certificate is not trusted.
  write_all(dir / "no-ca.json", "{}");
  fetch_fails("--model " + m, "the TLS certificate of 127.0.0.1",
              "BITNET_CONFIG='" + (dir / "no-ca.json").string() + "'");
  fetch_fails("--repo private/tok", "401", "HF_TOKEN=");
  fetch_fails("--repo private/tok", "403", "HF_TOKEN=hf_other");
  hub->push_fault(kLlama2Path, Fault{.kind = Fault::replace_body, .body = "{\"model\": "});
  fetch_fails("--model " + m, "not valid JSON");
  hub->push_fault(kLlama2Path, Fault{.kind = Fault::replace_body, .body = "{\"x\": 1}"});
  fetch_fails("--model " + m, "not a tokenizer.json");
  hub->push_fault(kLlama2Path, Fault{.kind = Fault::wrong_bytes});
  fetch_fails("--model " + m, "SHA-256", "BITNET_DOWNLOAD_RETRIES=0");
  // A Content-Length that promises more than comes looks like a cut: only a .partial stays.
  hub->push_fault(kLlama2Path, Fault{.kind = Fault::lie_length, .bytes = 100});
  Run longer = run_cli("tokenizer fetch --model " + m, "BITNET_DOWNLOAD_RETRIES=0");
  BOOST_TEST(longer.exit_code == 1, longer.out);
  BOOST_TEST(!fs::exists(llama2_cache(*this) / "tokenizer.json"));
  BOOST_TEST(cached_files() == 1u);
  BOOST_TEST(fs::exists(llama2_cache(*this) / "tokenizer.json.partial"));
  fs::remove_all(cache);
  // One that promises less than comes is refused outright.
  hub->push_fault(kLlama2Path, Fault{.kind = Fault::lie_length, .bytes = -100});
  fetch_fails("--model " + m, "", "BITNET_DOWNLOAD_RETRIES=0");
  // The model names its repository, but its embedding is smaller than that tokenizer.
  const std::string small = model("small.gguf", 1000, "NousResearch/Llama-2-7b-hf");
  fetch_fails("--model " + small, "has 32000 tokens but the model's embedding has 1000 rows");

  // 500 and 429 are retried; a redirect to another host loses the token on the way.
  hub->push_fault(kLlama2Path, Fault{.kind = Fault::status, .code = 500});
  hub->push_fault(kLlama2Path, Fault{.kind = Fault::status, .code = 429});
  hub->push_fault(kLlama2Path,
                  Fault{.kind = Fault::redirect, .location = hub->other_host_url() + kLlama2Path});
  hub->clear_requests();
  Run ok = run_cli("tokenizer fetch --model " + m, "BITNET_DOWNLOAD_RETRIES=3");
  BOOST_REQUIRE_MESSAGE(ok.exit_code == 0, ok.out);
  BOOST_TEST(read_all(llama2_cache(*this) / "tokenizer.json") == llama2);
  bool other_host_seen = false;
  for (const SeenRequest& s : hub->requests())
    if (s.host.rfind("localhost", 0) == 0) {
      other_host_seen = true;
      BOOST_TEST(s.authorization.empty(), "the token reached " << s.host);
    }
  BOOST_TEST(other_host_seen);
}

BOOST_FIXTURE_TEST_CASE(a_cut_download_is_kept_and_resumed, SourcesHub) {
  const std::string m = model("m.gguf");
  hub->push_fault(kLlama2Path, Fault{.kind = Fault::drop_after, .bytes = 600000});
  Run cut = run_cli("tokenizer fetch --model " + m, "BITNET_DOWNLOAD_RETRIES=0");
  BOOST_TEST(cut.exit_code == 1, cut.out);
  const fs::path partial = llama2_cache(*this) / "tokenizer.json.partial";
  BOOST_TEST(!fs::exists(llama2_cache(*this) / "tokenizer.json"));
  BOOST_REQUIRE(fs::exists(partial));
  BOOST_TEST(fs::file_size(partial) == 600000u);
  Run listed = run_cli("cache list");
  BOOST_TEST(contains(listed.out, "1 unfinished download"), listed.out);

  hub->clear_requests();
  Run resumed = run_cli("tokenizer fetch --model " + m);
  BOOST_TEST(resumed.exit_code == 0, resumed.out);
  BOOST_TEST(read_all(llama2_cache(*this) / "tokenizer.json") == llama2);
  BOOST_TEST(!fs::exists(partial));
  BOOST_REQUIRE(!hub->requests().empty());
  BOOST_TEST(hub->requests()[0].range == "bytes=600000-");
  BOOST_TEST(run_cli("cache verify").exit_code == 0);
}

BOOST_FIXTURE_TEST_CASE(mirrors_by_priority_with_their_own_credentials, SourcesHub) {
  const std::string m = model("m.gguf");
  // Two mirrors on the hub's server: "low" would answer, "high" has it under a flat layout
  // keyed by the known tokenizer and is asked first.
  write_all(dir / "hub/corp/llama2-32k/tokenizer.json", llama2);
  const std::string ca = certs.ca_pem.string(), base = hub->url();
  write_config(R"("mirrors": [
      {"name": "low", "priority": 1, "base_url": ")" +
               base + R"(", "ca_bundle": ")" + ca + R"("},
      {"name": "high", "priority": 9, "base_url": ")" +
               base +
               R"(/corp", "template": "{base}/{cache_key}/resolve/main/{file}",
       "auth_header": "X-Api-Key", "auth_env": "CORP_KEY", "ca_bundle": ")" +
               ca + R"("}])");
  env.set("CORP_KEY", "corp-secret-key");
  Run r = run_cli("--log trace tokenizer fetch --model " + m);
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  BOOST_TEST(contains(r.out, "from mirror:high"), r.out);
  BOOST_TEST(!contains(r.out, "corp-secret-key"), r.out);
  const auto seen = hub->requests();
  BOOST_REQUIRE(!seen.empty());
  BOOST_TEST(seen[0].target == "/corp/llama2-32k/resolve/main/tokenizer.json");
  BOOST_TEST(seen[0].headers.at("x-api-key") == "corp-secret-key");
  BOOST_TEST(seen[0].authorization.empty(), "the HF token went to a mirror");

  // --source picks one; an unknown one is named with the configured list.
  Run low = run_cli("tokenizer fetch --force --source mirror:low --model " + m);
  BOOST_TEST(contains(low.out, "from mirror:low"), low.out);
  Run bad = run_cli("tokenizer fetch --source mirror:nope --model " + m);
  BOOST_TEST(bad.exit_code == 1);
  BOOST_TEST(contains(bad.out, "the sources: hub, mirror:high, mirror:low"), bad.out);
  // The mirror's credential missing: an error naming the variable, and the hub still answers.
  env.unset("CORP_KEY");
  Run nokey = run_cli("tokenizer fetch --force --model " + m);
  BOOST_TEST(nokey.exit_code == 0, nokey.out);
  Run strict_nokey = run_cli("tokenizer fetch --force --model " + m, "BITNET_STRICT_TOKENIZERS=1");
  BOOST_TEST(strict_nokey.exit_code == 1);
  BOOST_TEST(contains(strict_nokey.out, "CORP_KEY (auth_env) is not set"), strict_nokey.out);
}

BOOST_FIXTURE_TEST_CASE(strict_mode_lists_every_source_tried, SourcesHub) {
  write_config(R"("mirrors": [{"name": "corp", "base_url": ")" + hub->url() +
               R"(/mirror", "ca_bundle": ")" + certs.ca_pem.string() + R"("}])");
  const std::string m = model("odd.gguf", 1000, "org/missing");
  Run r = run_cli("run --auto-download --model " + m + kRunArgs, "BITNET_STRICT_TOKENIZERS=1");
  BOOST_TEST(r.exit_code == 1);
  for (const char* step :
       {"explicit (filesystem): miss", "embedded (embedded-gguf): miss", "sibling (filesystem)",
        "parent (filesystem)", "dirs (filesystem)", "cache: miss",
        "mirror:corp (mirror): miss: mirror corp has no", "hub (hf-hub): miss"})
    BOOST_TEST(contains(r.out, step), step << " in:\n" << r.out);
  BOOST_TEST(contains(r.out, "give one with --tokenizer"), r.out);
  // Offline: the same list, and no connection at all.
  const size_t before = hub->connections();
  Run off = run_cli("run --auto-download --model " + m + kRunArgs,
                    "BITNET_STRICT_TOKENIZERS=1 HF_HUB_OFFLINE=1");
  BOOST_TEST(off.exit_code == 1);
  BOOST_TEST(contains(off.out, "offline (BITNET_OFFLINE or HF_HUB_OFFLINE is set)"), off.out);
  BOOST_TEST(hub->connections() == before);
}

BOOST_FIXTURE_TEST_CASE(an_https_tokenizer_is_downloaded_once_and_checked, SourcesHub) {
  const std::string url = hub->url() + kLlama2Path;
  Run t = run_cli("tokenize --tokenizer " + url + " --text 'hello world'");
  BOOST_REQUIRE_MESSAGE(t.exit_code == 0, t.out);
  const size_t n = hub->requests().size();
  BOOST_TEST(hub->requests()[0].authorization == std::string("Bearer ") + kHubToken);
  Run again = run_cli("tokenize --tokenizer " + url + " --text 'hello world'", "BITNET_OFFLINE=1");
  BOOST_TEST(again.exit_code == 0, again.out);
  BOOST_TEST(contains(again.out, t.out.substr(0, t.out.find('\n'))), again.out);
  BOOST_TEST(hub->requests().size() == n);
  // run takes it too, with the same checks: this model's embedding is too small for it.
  const std::string m = model("m.gguf");
  BOOST_TEST(run_cli("run --model " + m + " --tokenizer " + url + kRunArgs).exit_code == 0);
  const std::string small = model("small.gguf", 1000);
  // Another URL of the same file (another host name: no token goes there).
  Run refused = run_cli("run --model " + small + " --tokenizer " + hub->other_host_url() +
                        kLlama2Path + kRunArgs);
  BOOST_TEST(refused.exit_code == 1);
  BOOST_TEST(contains(refused.out, "has 32000 tokens but the model's embedding has 1000 rows"),
             refused.out);
  BOOST_TEST(run_cli("tokenize --tokenizer http://127.0.0.1:1/t.json --text x").exit_code == 1);
  // Credentials in the URL or its query are refused and never echoed, at any log level.
  const std::string with_secrets =
      "https://user:pw_InUrl@127.0.0.1:" + std::to_string(hub->port()) + kLlama2Path +
      "?sig=sig_InQuery";
  Run secret = run_cli("--log trace tokenize --tokenizer '" + with_secrets + "' --text x");
  BOOST_TEST(secret.exit_code == 1, secret.out);
  BOOST_TEST(!contains(secret.out, "pw_InUrl"), secret.out);
  BOOST_TEST(!contains(secret.out, "sig_InQuery"), secret.out);
}

BOOST_FIXTURE_TEST_CASE(through_a_connect_proxy_unless_no_proxy, SourcesHub) {
  const std::string m = model("m.gguf");
  ConnectProxy proxy;
  const std::string via = "HTTPS_PROXY=http://127.0.0.1:" + std::to_string(proxy.port());
  Run r = run_cli("tokenizer fetch --model " + m, via);
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  BOOST_REQUIRE(!proxy.connects().empty());
  BOOST_TEST(proxy.connects()[0] == "127.0.0.1:" + std::to_string(hub->port()));
  const size_t n = proxy.connects().size();
  Run direct = run_cli("tokenizer fetch --force --model " + m, via + " NO_PROXY=127.0.0.1");
  BOOST_TEST(direct.exit_code == 0, direct.out);
  BOOST_TEST(proxy.connects().size() == n);
}

BOOST_AUTO_TEST_SUITE_END()

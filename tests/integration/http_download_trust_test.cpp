// bitnet::net::download against the local test hub: whom it trusts and what it tells whom.
// TLS verification, redirects and the headers that follow them, CONNECT proxies and NO_PROXY,
// offline mode, and secrets (token, proxy password, signed query strings) kept out of every
// log line and error.
#include <bitnet/runtime/log.hpp>

#include <boost/test/unit_test.hpp>

#include "http_download_fixture.hpp"

namespace fs = std::filesystem;
using bitnet::net::download;
using bitnet_test::Fault;
using bitnet_test::HubFixture;
using bitnet_test::kToken;
using bitnet_test::kTokenizerPath;
using bitnet_test::mentions;
using bitnet_test::read_all;

namespace {

// Logs at trace level until it goes out of scope, whatever BITNET_LOG says.
struct TraceLogging {
  bitnet::log::Level saved = bitnet::log::level();
  TraceLogging() { bitnet::log::set_level(bitnet::log::Level::trace); }
  ~TraceLogging() { bitnet::log::set_level(saved); }
};

std::string commit_path() {
  return "/meta-llama/Llama-2-7b-hf/resolve/0123456789abcdef0123456789abcdef01234567/"
         "tokenizer.json";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_download_trust)

BOOST_FIXTURE_TEST_CASE(redirect_on_the_same_host_keeps_the_headers, HubFixture) {
  const auto r = request();
  hub->push_fault(kTokenizerPath,
                  Fault{.kind = Fault::redirect, .location = hub->url() + commit_path()});
  auto got = download(r);
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  BOOST_TEST(read_all(r.dest) == content);
  const auto seen = hub->requests();
  BOOST_REQUIRE(seen.size() == 2u);
  BOOST_TEST(seen[1].target == commit_path());
  BOOST_TEST(seen[1].authorization == std::string("Bearer ") + kToken);
}

BOOST_FIXTURE_TEST_CASE(redirect_to_another_host_drops_authorization, HubFixture) {
  auto r = request();
  r.headers.emplace_back("X-Caller-Header", "private");
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::redirect,
                                        .location = hub->other_host_url() + kTokenizerPath});
  auto got = download(r);
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  BOOST_TEST(read_all(r.dest) == content);
  const auto seen = hub->requests();
  BOOST_REQUIRE(seen.size() == 2u);
  BOOST_TEST(seen[0].authorization == std::string("Bearer ") + kToken);
  BOOST_TEST(seen[0].headers.count("x-caller-header") == 1u);
  BOOST_TEST(seen[1].host.starts_with("localhost:"));
  BOOST_TEST(seen[1].sni == "localhost");
  BOOST_TEST(seen[1].authorization.empty());
  BOOST_TEST(seen[1].headers.count("x-caller-header") == 0u);
}

BOOST_FIXTURE_TEST_CASE(redirect_to_another_port_drops_authorization, HubFixture) {
  bitnet_test::TestHub other(dir / "hub", certs);
  const auto r = request();
  hub->push_fault(kTokenizerPath,
                  Fault{.kind = Fault::redirect, .location = other.url() + kTokenizerPath});
  auto got = download(r);
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  BOOST_TEST(read_all(r.dest) == content);
  const auto seen = other.requests();
  BOOST_REQUIRE(seen.size() == 1u);
  BOOST_TEST(seen[0].authorization.empty());
}

BOOST_FIXTURE_TEST_CASE(redirect_to_plain_http_is_refused, HubFixture) {
  const auto r = request();
  const std::string http_url = "http://127.0.0.1:" + std::to_string(hub->port()) + kTokenizerPath;
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::redirect, .location = http_url});
  auto got = download(r);
  BOOST_REQUIRE(!got.has_value());
  BOOST_TEST(mentions(got.error().message, "https"));
  BOOST_TEST(!fs::exists(r.dest));
  BOOST_TEST(hub->requests().size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(redirect_loop_stops_after_ten, HubFixture) {
  const auto r = request();
  for (int i = 0; i < 20; ++i)
    hub->push_fault(kTokenizerPath,
                    Fault{.kind = Fault::redirect, .location = hub->url() + kTokenizerPath});
  auto got = download(r);
  BOOST_REQUIRE(!got.has_value());
  BOOST_TEST(mentions(got.error().message, "redirect"));
  BOOST_TEST(hub->requests().size() == 11u);
  BOOST_TEST(!fs::exists(r.dest));
}

BOOST_FIXTURE_TEST_CASE(certificate_from_another_ca_is_refused, HubFixture) {
  auto r = request();
  r.ca_bundle = certs.other_ca_pem;
  bitnet_test::check_error(download(r), BITNET_STATUS_NETWORK);
  BOOST_TEST(hub->requests().empty());
  BOOST_TEST(!fs::exists(r.dest));
  r.ca_bundle.clear();  // the system store alone does not know the test CA either
  bitnet_test::check_error(download(r), BITNET_STATUS_NETWORK);
  BOOST_TEST(hub->requests().empty());
}

BOOST_FIXTURE_TEST_CASE(certificate_for_another_host_name_is_refused, HubFixture) {
  const auto wrong = bitnet_test::make_test_certs(dir / "wrong-certs", "DNS:hub.example.invalid");
  bitnet_test::TestHub impostor(dir / "hub", wrong);
  auto r = request();
  r.url = impostor.url() + kTokenizerPath;
  r.ca_bundle = wrong.ca_pem;
  bitnet_test::check_error(download(r), BITNET_STATUS_NETWORK);
  BOOST_TEST(impostor.requests().empty());
  BOOST_TEST(!fs::exists(r.dest));
}

BOOST_FIXTURE_TEST_CASE(ca_bundle_from_the_environment, HubFixture) {
  auto r = request();
  r.ca_bundle.clear();
  env.set("BITNET_CA_BUNDLE", certs.ca_pem.string());
  auto got = download(r);
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  BOOST_TEST(read_all(r.dest) == content);
}

BOOST_FIXTURE_TEST_CASE(https_proxy_tunnels_with_connect, HubFixture) {
  bitnet_test::ConnectProxy proxy;
  env.set("HTTPS_PROXY", "http://user:pr0xyPass@127.0.0.1:" + std::to_string(proxy.port()));
  const auto r = request();
  TraceLogging trace;
  bitnet_test::CapturedStderr err;
  auto got = download(r);
  const std::string logged = err.text();
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  BOOST_TEST(read_all(r.dest) == content);
  BOOST_TEST(proxy.connects() ==
             std::vector<std::string>{"127.0.0.1:" + std::to_string(hub->port())});
  BOOST_TEST(proxy.proxy_authorizations().at(0) == "Basic dXNlcjpwcjB4eVBhc3M=");  // user:pr0xyPass
  BOOST_TEST(hub->requests().size() == 1u);
  BOOST_TEST(!mentions(logged, "pr0xyPass"));
  BOOST_TEST(!mentions(logged, "dXNlcjpwcjB4eVBhc3M="));
}

BOOST_FIXTURE_TEST_CASE(lower_case_https_proxy_is_honoured, HubFixture) {
  bitnet_test::ConnectProxy proxy;
  env.set("https_proxy", "http://127.0.0.1:" + std::to_string(proxy.port()));
  auto got = download(request());
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  BOOST_TEST(proxy.connects().size() == 1u);
  BOOST_TEST(proxy.proxy_authorizations().at(0).empty());
}

BOOST_FIXTURE_TEST_CASE(no_proxy_bypasses_the_proxy, HubFixture) {
  bitnet_test::ConnectProxy proxy;
  env.set("HTTPS_PROXY", "http://127.0.0.1:" + std::to_string(proxy.port()));
  for (const char* no_proxy : {"127.0.0.1", "example.com,127.0.0.1", "*"}) {
    env.set("NO_PROXY", no_proxy);
    auto r = request();
    r.force = true;
    auto got = download(r);
    BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
    BOOST_TEST(proxy.connects().empty(), "NO_PROXY=" << no_proxy);
  }
  env.set("NO_PROXY", "example.com,.internal");
  auto r = request();
  r.force = true;
  auto got = download(r);
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  BOOST_TEST(proxy.connects().size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(offline_refuses_before_any_connection, HubFixture) {
  for (const char* name : {"BITNET_OFFLINE", "HF_HUB_OFFLINE"}) {
    bitnet_test::ScopedEnv offline;
    offline.set(name, "1");
    const auto r = request();
    auto got = download(r);
    bitnet_test::check_error(got, BITNET_STATUS_NETWORK);
    BOOST_TEST(mentions(got.error().message, name));
    BOOST_TEST(!fs::exists(r.dest));
  }
  BOOST_TEST(hub->connections() == 0u);
}

BOOST_FIXTURE_TEST_CASE(plain_http_url_is_refused_without_connecting, HubFixture) {
  auto r = request();
  r.url = "http://127.0.0.1:" + std::to_string(hub->port()) + kTokenizerPath;
  bitnet_test::check_error(download(r), BITNET_STATUS_INVALID_ARGUMENT);
  BOOST_TEST(hub->connections() == 0u);
}

// Every path that logs or fails, at trace level: the token, a signed query string and the
// proxy's password appear nowhere, while the log does name what was downloaded.
BOOST_FIXTURE_TEST_CASE(secrets_never_in_logs_or_errors_at_trace, HubFixture) {
  env.set("BITNET_DOWNLOAD_RETRIES", "1");
  TraceLogging trace;
  bitnet_test::CapturedStderr err;
  std::string errors;
  auto fail = [&](bitnet::net::DownloadRequest r) {
    auto got = download(r);
    if (!got) errors += got.error().message + "\n";
  };
  auto r = request();
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::redirect,
                                        .location = hub->other_host_url() + kTokenizerPath});
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::status, .code = 500});
  fail(r);
  r.force = true;
  for (int code : {401, 403, 429, 503, 503})
    hub->push_fault(kTokenizerPath, Fault{.kind = Fault::status, .code = code});
  fail(r);
  fail(r);
  fail(r);
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::wrong_bytes});
  fail(r);
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::drop_after, .bytes = 1000});
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::drop_after, .bytes = 1000});
  fail(r);
  auto missing =
      request("/meta-llama/Llama-2-7b-hf/resolve/main/none.json?X-Amz-Signature=QuerySecret42");
  missing.force = true;
  fail(missing);
  bitnet_test::ConnectProxy proxy;
  bitnet_test::ScopedEnv proxied;
  proxied.set("HTTPS_PROXY", "http://user:pr0xyPass@127.0.0.1:" + std::to_string(proxy.port()));
  hub->push_fault(kTokenizerPath, Fault{.kind = Fault::status, .code = 401});
  fail(r);
  const std::string logged = err.text();
  BOOST_TEST(hub->pending_faults() == 0u);
  BOOST_TEST(mentions(logged, "tokenizer.json"));
  BOOST_TEST(mentions(errors, "none.json"));
  for (const std::string& secret :
       {std::string(kToken), std::string("QuerySecret42"), std::string("pr0xyPass"),
        std::string("dXNlcjpwcjB4eVBhc3M=")}) {
    BOOST_TEST(!mentions(logged, secret), secret << " appears in the log:\n" << logged);
    BOOST_TEST(!mentions(errors, secret), secret << " appears in an error:\n" << errors);
  }
}

BOOST_FIXTURE_TEST_CASE(no_progress_bar_when_stderr_is_not_a_terminal, HubFixture) {
  auto r = request();
  r.progress = true;
  bitnet_test::CapturedStderr err;
  auto got = download(r);
  const std::string shown = err.text();
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  BOOST_TEST(!mentions(shown, "\r"));
  BOOST_TEST(!mentions(shown, "ETA"));
}

BOOST_AUTO_TEST_SUITE_END()

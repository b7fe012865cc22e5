// URLs for the HTTPS client: what is accepted, how redirects resolve, what logs may show.
#include "net/url.hpp"

#include <bitnet/runtime/net/download.hpp>

#include <boost/test/unit_test.hpp>

using namespace bitnet::net;

BOOST_AUTO_TEST_SUITE(net_url)

BOOST_AUTO_TEST_CASE(https_urls_are_taken_apart) {
  auto u = parse_https_url("https://Huggingface.CO/org/name/resolve/main/tokenizer.json?x=1");
  BOOST_REQUIRE(u);
  BOOST_TEST(u->host == "huggingface.co");
  BOOST_TEST(u->port == 443);
  BOOST_TEST(u->target == "/org/name/resolve/main/tokenizer.json?x=1");
  BOOST_TEST(u->authority() == "huggingface.co");
  BOOST_TEST(u->authority(true) == "huggingface.co:443");

  auto p = parse_https_url("https://127.0.0.1:8443");
  BOOST_REQUIRE(p);
  BOOST_TEST(p->port == 8443);
  BOOST_TEST(p->target == "/");
  BOOST_TEST(p->text() == "https://127.0.0.1:8443/");

  auto q = parse_https_url("https://host?a=b");
  BOOST_REQUIRE(q);
  BOOST_TEST(q->target == "/?a=b");

  auto v6 = parse_https_url("https://[::1]:9000/f");
  BOOST_REQUIRE(v6);
  BOOST_TEST(v6->host == "::1");
  BOOST_TEST(v6->authority() == "[::1]:9000");
}

BOOST_AUTO_TEST_CASE(anything_but_a_plain_https_url_is_refused) {
  for (const char* bad :
       {"http://example.com/f", "ftp://example.com/f", "example.com/f", "https:///f",
        "https://host:0/f", "https://host:65536/f", "https://host:12ab/f", "https://[::1/f",
        "https://host/a b", "https://user:pw@host/f"}) {
    auto r = parse_https_url(bad);
    BOOST_TEST_INFO(bad);
    BOOST_TEST(!r);
    if (!r) {
      BOOST_TEST(r.error().code == BITNET_STATUS_INVALID_ARGUMENT);
      BOOST_TEST(r.error().message.find("pw@") == std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(redaction_drops_query_fragment_and_credentials) {
  BOOST_TEST(redact_url("https://cdn.example/f.gguf?X-Amz-Signature=abc&t=1") ==
             "https://cdn.example/f.gguf");
  BOOST_TEST(redact_url("https://h/f#frag") == "https://h/f");
  BOOST_TEST(redact_url("http://user:secret@proxy:3128/") == "http://proxy:3128/");
  BOOST_TEST(redact_url("https://h/path@with-at") == "https://h/path@with-at");
  BOOST_TEST(redact_url("https://h/plain") == "https://h/plain");
}

BOOST_AUTO_TEST_CASE(locations_resolve_against_the_request) {
  const Url base = *parse_https_url("https://hub.example:8443/org/m/resolve/main/f.json?q=1");
  auto abs = resolve_location(base, "https://cdn.example/blob/123?sig=x");
  BOOST_REQUIRE(abs);
  BOOST_TEST(abs->host == "cdn.example");
  BOOST_TEST(!same_origin(base, *abs));

  auto path = resolve_location(base, "/api/other");
  BOOST_REQUIRE(path);
  BOOST_TEST(path->text() == "https://hub.example:8443/api/other");
  BOOST_TEST(same_origin(base, *path));

  auto rel = resolve_location(base, "g.json");
  BOOST_REQUIRE(rel);
  BOOST_TEST(rel->target == "/org/m/resolve/main/g.json");

  auto scheme_relative = resolve_location(base, "//mirror.example/f");
  BOOST_REQUIRE(scheme_relative);
  BOOST_TEST(scheme_relative->host == "mirror.example");

  BOOST_TEST(!resolve_location(base, "http://hub.example:8443/f"));
  BOOST_TEST(!same_origin(*parse_https_url("https://h:1/"), *parse_https_url("https://h:2/")));
}

BOOST_AUTO_TEST_SUITE_END()

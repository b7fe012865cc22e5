// HTTPS_PROXY parsing and NO_PROXY matching.
#include "net/proxy.hpp"
#include "net_env.hpp"

#include <boost/test/unit_test.hpp>

using namespace bitnet::net;

namespace {

Url url(const char* text) {
  return *parse_https_url(text);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(net_proxy)

BOOST_AUTO_TEST_CASE(proxy_urls_parse_with_credentials_as_basic_auth) {
  auto p = parse_proxy("http://alice:s%40cret@proxy.corp:3128/");
  BOOST_REQUIRE(p);
  BOOST_TEST(p->host == "proxy.corp");
  BOOST_TEST(p->port == 3128);
  BOOST_TEST(p->authorization == "Basic YWxpY2U6c0BjcmV0");  // alice:s@cret
  BOOST_TEST(p->display() == "proxy.corp:3128");

  auto bare = parse_proxy("10.0.0.1:8080");
  BOOST_REQUIRE(bare);
  BOOST_TEST(bare->host == "10.0.0.1");
  BOOST_TEST(bare->authorization.empty());
  BOOST_TEST(parse_proxy("http://proxy")->port == 80);
}

BOOST_AUTO_TEST_CASE(unusable_proxies_are_refused_without_their_credentials) {
  for (const char* bad : {"https://u:topsecret@proxy:443", "socks5://proxy:1080", "http://:3128",
                          "http://proxy:99999", "http://u:topsecret@proxy:x"}) {
    auto p = parse_proxy(bad);
    BOOST_TEST_INFO(bad);
    BOOST_TEST(!p);
    if (!p) BOOST_TEST(p.error().message.find("topsecret") == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(no_proxy_matches_names_suffixes_addresses_and_ports) {
  const Url hf = url("https://huggingface.co/x");
  const Url cdn = url("https://cdn-lfs.huggingface.co/x");
  const Url local = url("https://127.0.0.1:8443/x");
  BOOST_TEST(no_proxy_matches("*", hf));
  BOOST_TEST(no_proxy_matches("huggingface.co", hf));
  BOOST_TEST(no_proxy_matches("huggingface.co", cdn));
  BOOST_TEST(no_proxy_matches(".huggingface.co", cdn));
  BOOST_TEST(no_proxy_matches("*.huggingface.co", cdn));
  BOOST_TEST(!no_proxy_matches("face.co", hf));
  BOOST_TEST(!no_proxy_matches("cdn-lfs.huggingface.co", hf));
  BOOST_TEST(no_proxy_matches("example.com, HuggingFace.co", hf));
  BOOST_TEST(no_proxy_matches("example.com huggingface.co", hf));
  BOOST_TEST(no_proxy_matches("127.0.0.1", local));
  BOOST_TEST(no_proxy_matches("127.0.0.0/8", local));
  BOOST_TEST(!no_proxy_matches("10.0.0.0/8", local));
  BOOST_TEST(no_proxy_matches("127.0.0.1:8443", local));
  BOOST_TEST(!no_proxy_matches("127.0.0.1:9443", local));
  BOOST_TEST(!no_proxy_matches("", hf));
  BOOST_TEST(!no_proxy_matches(" , ", hf));
  BOOST_TEST(no_proxy_matches("[::1]", url("https://[::1]/x")));
}

BOOST_AUTO_TEST_CASE(the_environment_chooses_the_proxy) {
  ScopedEnv env;
  env.set("HTTPS_PROXY", nullptr);
  env.set("https_proxy", nullptr);
  env.set("NO_PROXY", nullptr);
  env.set("no_proxy", nullptr);
  const Url hf = url("https://huggingface.co/x");
  BOOST_TEST(!proxy_for(hf).value());

  env.set("https_proxy", "http://proxy.corp:3128");
  BOOST_TEST(proxy_for(hf).value()->host == "proxy.corp");
  env.set("HTTPS_PROXY", "http://upper.corp:3128");
  BOOST_TEST(proxy_for(hf).value()->host == "upper.corp");

  env.set("no_proxy", ".huggingface.co");
  BOOST_TEST(!proxy_for(hf).value());
  BOOST_TEST(proxy_for(url("https://example.com/")).value().has_value());

  env.set("HTTPS_PROXY", "https://proxy.corp:3128");
  auto bad = proxy_for(url("https://example.com/"));
  BOOST_TEST(!bad);
}

BOOST_AUTO_TEST_SUITE_END()

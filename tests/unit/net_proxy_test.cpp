// HTTPS_PROXY parsing and NO_PROXY matching.
#include "loopback_socket.hpp"
#include "net/proxy.hpp"
#include "scoped_env.hpp"

#include <bitnet/runtime/net/download.hpp>

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

using namespace bitnet::net;

namespace {

Url url(const char* text) {
  return *parse_https_url(text);
}

// A plain-TCP proxy that reads one CONNECT request and answers it with `reply`, then closes.
class OneShotProxy {
 public:
  explicit OneShotProxy(std::string reply) : reply_(std::move(reply)) {
    fd_ = bitnet_test::listen_on_loopback(0, 1, port_);
    thread_ = std::thread([this] { serve(); });
  }
  ~OneShotProxy() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  // What the client sent; complete once the download call has returned.
  const std::string& request() const { return request_; }

 private:
  void serve() {
    const int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    char buf[1024];
    while (request_.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      request_.append(buf, static_cast<size_t>(n));
    }
    ::send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
    ::close(c);
  }
  std::string reply_, request_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

// Downloads through a proxy that answers the CONNECT with `reply`; returns the error.
bitnet::Error through_proxy(OneShotProxy& proxy, const std::string& credentials) {
  bitnet_test::ScopedEnv env;
  const std::string proxy_url =
      "http://" + credentials + "127.0.0.1:" + std::to_string(proxy.port());
  env.set("HTTPS_PROXY", proxy_url);
  env.unset("NO_PROXY");
  env.unset("no_proxy");
  env.unset("BITNET_OFFLINE");
  env.unset("HF_HUB_OFFLINE");
  env.set("BITNET_DOWNLOAD_RETRIES", "0");
  env.set("BITNET_DOWNLOAD_TIMEOUT", "5");
  const auto dir =
      std::filesystem::temp_directory_path() /
      ("bitnet-net-proxy-" + std::to_string(::getpid()) + "-" + std::to_string(proxy.port()));
  bitnet::net::DownloadRequest r;
  r.url = "https://models.example:8443/org/m/resolve/main/f.json";
  r.dest = dir / "f.json";
  auto d = bitnet::net::download(r);
  BOOST_TEST(!std::filesystem::exists(r.dest));
  std::error_code ec;
  BOOST_TEST(std::filesystem::is_empty(dir, ec));
  std::filesystem::remove_all(dir, ec);
  BOOST_REQUIRE(!d);
  return d.error();
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
  bitnet_test::ScopedEnv env;
  env.unset("HTTPS_PROXY");
  env.unset("https_proxy");
  env.unset("NO_PROXY");
  env.unset("no_proxy");
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

BOOST_AUTO_TEST_CASE(a_proxy_asking_for_credentials_is_reported_without_them) {
  OneShotProxy proxy("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
  const bitnet::Error e = through_proxy(proxy, "bob:hunter2@");
  BOOST_TEST(proxy.request().starts_with("CONNECT models.example:8443 HTTP/1.1\r\n"));
  BOOST_TEST(proxy.request().find("Proxy-Authorization: Basic Ym9iOmh1bnRlcjI=") !=
             std::string::npos);  // bob:hunter2
  BOOST_TEST(e.code == BITNET_STATUS_NETWORK);
  BOOST_TEST(e.message.find("407") != std::string::npos, e.message);
  BOOST_TEST(e.message.find("hunter2") == std::string::npos);
  BOOST_TEST(e.message.find("Ym9iOmh1bnRlcjI") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_proxy_refusing_the_tunnel_is_reported) {
  OneShotProxy proxy("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
  const bitnet::Error e = through_proxy(proxy, "");
  BOOST_TEST(proxy.request().find("Proxy-Authorization") == std::string::npos);
  BOOST_TEST(e.code == BITNET_STATUS_NETWORK);
  BOOST_TEST(
      e.message.find("refused to connect to models.example:8443 (HTTP 403)") != std::string::npos,
      e.message);
}

BOOST_AUTO_TEST_SUITE_END()

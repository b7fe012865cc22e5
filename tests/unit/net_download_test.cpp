// bitnet::net::download where no TLS server is needed: argument checks, offline mode, refused
// and silent servers, the .partial lock, files already there, secrets kept out of logs and
// errors, and the C entry plugins call. Transfers against a real HTTPS server are in
// tests/integration/http_download_test.cpp.
#include "loopback_socket.hpp"
#include "scoped_env.hpp"

#include <bitnet/http.h>
#include <bitnet/runtime/log.hpp>
#include <bitnet/runtime/net/download.hpp>
#include <bitnet/runtime/plugins/host_services.hpp>

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace bitnet;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("bitnet-net-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

// A TCP socket on 127.0.0.1 that listens but never accepts: connections complete in the
// kernel and then hear nothing, as from a server that hangs.
class SilentListener {
 public:
  SilentListener() : fd_(bitnet_test::listen_on_loopback(SOCK_NONBLOCK, 8, port_)) {}
  ~SilentListener() { ::close(fd_); }
  uint16_t port() const { return port_; }
  bool was_contacted() const {
    const int c = ::accept(fd_, nullptr, nullptr);
    if (c >= 0) ::close(c);
    return c >= 0;
  }

 private:
  uint16_t port_ = 0;
  int fd_ = -1;
};

// A port nothing listens on: bound, then closed.
uint16_t closed_port() {
  SilentListener l;
  return l.port();
}

std::string url_on(uint16_t port, const std::string& path = "/org/m/resolve/main/f.json") {
  return "https://127.0.0.1:" + std::to_string(port) + path;
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

// Fast failures: no retries unless a test asks, no waiting between them.
void quick(bitnet_test::ScopedEnv& env) {
  env.unset("BITNET_OFFLINE");
  env.unset("HF_HUB_OFFLINE");
  env.unset("HTTPS_PROXY");
  env.unset("https_proxy");
  env.set("BITNET_DOWNLOAD_RETRIES", "0");
  env.set("BITNET_DOWNLOAD_BACKOFF_MS", "1");
  env.set("BITNET_DOWNLOAD_TIMEOUT", "2");
}

constexpr const char* kHelloSha =
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

}  // namespace

BOOST_AUTO_TEST_SUITE(net_download)

BOOST_AUTO_TEST_CASE(bad_requests_are_refused_before_any_work) {
  bitnet_test::ScopedEnv env;
  quick(env);
  TempDir dir;
  net::DownloadRequest r;
  r.dest = dir.path / "f.json";
  r.url = "http://127.0.0.1/f.json";
  auto http = net::download(r);
  BOOST_REQUIRE(!http);
  BOOST_TEST(http.error().code == BITNET_STATUS_INVALID_ARGUMENT);
  BOOST_TEST(http.error().message.find("only https") != std::string::npos);

  r.url = url_on(closed_port());
  r.expected_sha256 = "abc";
  auto sha = net::download(r);
  BOOST_REQUIRE(!sha);
  BOOST_TEST(sha.error().code == BITNET_STATUS_INVALID_ARGUMENT);

  r.expected_sha256.clear();
  r.dest.clear();
  BOOST_TEST(net::download(r).error().code == BITNET_STATUS_INVALID_ARGUMENT);

  r.dest = dir.path / "f.json";
  r.headers = {{"Authorization", "Bearer SECRET\n"}};
  auto newline = net::download(r);
  BOOST_REQUIRE(!newline);
  BOOST_TEST(newline.error().code == BITNET_STATUS_INVALID_ARGUMENT);
  BOOST_TEST(newline.error().message.find("line break") != std::string::npos);
  BOOST_TEST(newline.error().message.find("SECRET") == std::string::npos);
  r.headers = {{"", "x"}};
  BOOST_TEST(net::download(r).error().code == BITNET_STATUS_INVALID_ARGUMENT);
  r.headers = {{"Bad Name", "x"}};
  BOOST_TEST(net::download(r).error().code == BITNET_STATUS_INVALID_ARGUMENT);
  r.headers.clear();

  env.set("BITNET_DOWNLOAD_TIMEOUT", "soon");
  auto timeout = net::download(r);
  BOOST_REQUIRE(!timeout);
  BOOST_TEST(timeout.error().code == BITNET_STATUS_INVALID_ARGUMENT);
  BOOST_TEST(timeout.error().message.find("BITNET_DOWNLOAD_TIMEOUT=soon") != std::string::npos);
  BOOST_TEST(fs::is_empty(dir.path));
}

BOOST_AUTO_TEST_CASE(offline_mode_refuses_before_connecting) {
  for (const char* variable : {"BITNET_OFFLINE", "HF_HUB_OFFLINE"}) {
    bitnet_test::ScopedEnv env;
    quick(env);
    env.set(variable, "1");
    TempDir dir;
    SilentListener server;
    net::DownloadRequest r;
    r.url = url_on(server.port());
    r.dest = dir.path / "f.json";
    auto d = net::download(r);
    BOOST_TEST_INFO(variable);
    BOOST_REQUIRE(!d);
    BOOST_TEST(d.error().code == BITNET_STATUS_NETWORK);
    BOOST_TEST(d.error().message.find(std::string(variable) + "=1") != std::string::npos);
    BOOST_TEST(!server.was_contacted());
    BOOST_TEST(fs::is_empty(dir.path));
  }
}

BOOST_AUTO_TEST_CASE(a_file_already_in_place_is_kept_unless_forced_or_wrong) {
  bitnet_test::ScopedEnv env;
  quick(env);
  env.set("BITNET_OFFLINE", "1");
  TempDir dir;
  net::DownloadRequest r;
  r.url = url_on(closed_port());
  r.dest = dir.path / "f.json";
  write_file(r.dest, "hello");
  auto kept = net::download(r);
  BOOST_REQUIRE(kept);
  BOOST_TEST(kept->bytes == 5);
  BOOST_TEST(kept->sha256 == kHelloSha);
  BOOST_TEST(kept->http_status == 0);

  r.expected_sha256 = kHelloSha;
  BOOST_TEST(net::download(r).has_value());
  r.expected_sha256 = std::string(64, '0');
  BOOST_TEST(net::download(r).error().code == BITNET_STATUS_NETWORK);  // offline: would fetch
  r.expected_sha256.clear();
  r.force = true;
  BOOST_TEST(net::download(r).error().code == BITNET_STATUS_NETWORK);
  BOOST_TEST(fs::file_size(r.dest) == 5u);
}

BOOST_AUTO_TEST_CASE(a_refused_connection_is_retried_then_reported_leaving_nothing) {
  bitnet_test::ScopedEnv env;
  quick(env);
  env.set("BITNET_DOWNLOAD_RETRIES", "2");
  TempDir dir;
  net::DownloadRequest r;
  r.url = url_on(closed_port());
  r.dest = dir.path / "sub" / "f.json";
  auto d = net::download(r);
  BOOST_REQUIRE(!d);
  BOOST_TEST(d.error().code == BITNET_STATUS_NETWORK);
  BOOST_TEST(d.error().message.find("after 3 attempt(s)") != std::string::npos);
  BOOST_TEST(d.error().message.find("cannot connect to 127.0.0.1:") != std::string::npos);
  BOOST_TEST(fs::is_empty(dir.path / "sub"));
}

BOOST_AUTO_TEST_CASE(a_server_that_never_answers_times_out) {
  bitnet_test::ScopedEnv env;
  quick(env);
  env.set("BITNET_DOWNLOAD_TIMEOUT", "0.2");
  TempDir dir;
  SilentListener server;
  net::DownloadRequest r;
  r.url = url_on(server.port());
  r.dest = dir.path / "f.json";
  const auto start = std::chrono::steady_clock::now();
  auto d = net::download(r);
  const auto took = std::chrono::steady_clock::now() - start;
  BOOST_REQUIRE(!d);
  BOOST_TEST(d.error().code == BITNET_STATUS_NETWORK);
  BOOST_TEST(d.error().message.find("took longer than 200 ms") != std::string::npos);
  BOOST_TEST(took < std::chrono::seconds(3));
  BOOST_TEST(fs::is_empty(dir.path));
}

BOOST_AUTO_TEST_CASE(a_second_download_of_the_same_file_waits_its_turn) {
  bitnet_test::ScopedEnv env;
  quick(env);
  TempDir dir;
  net::DownloadRequest r;
  r.url = url_on(closed_port());
  r.dest = dir.path / "f.json";
  const int held = ::open((dir.path / "f.json.partial").c_str(), O_RDWR | O_CREAT, 0644);
  BOOST_REQUIRE(::flock(held, LOCK_EX) == 0);
  auto d = net::download(r);
  ::close(held);
  BOOST_REQUIRE(!d);
  BOOST_TEST(d.error().code == BITNET_STATUS_IO);
  BOOST_TEST(d.error().message.find("another process") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(secrets_stay_out_of_logs_and_errors_at_trace_level) {
  bitnet_test::ScopedEnv env;
  quick(env);
  env.set("BITNET_DOWNLOAD_RETRIES", "1");
  const std::string proxy = "http://alice:PROXYSECRET@127.0.0.1:" + std::to_string(closed_port());
  env.set("HTTPS_PROXY", proxy);
  TempDir dir;
  net::DownloadRequest r;
  r.url = url_on(closed_port(), "/f.json?token=QUERYSECRET");
  r.dest = dir.path / "f.json";
  r.headers = {{"Authorization", "Bearer TOKENSECRET"}, {"X-Api-Key", "KEYSECRET"}};
  const log::Level saved = log::level();
  log::set_level(log::Level::trace);
  std::string logged;
  Result<net::Downloaded> d;
  {
    bitnet_test::CapturedStderr capture;
    d = net::download(r);
    logged = capture.text();
  }
  log::set_level(saved);
  BOOST_REQUIRE(!d);
  BOOST_TEST(logged.find("Authorization") != std::string::npos);  // trace did log
  BOOST_TEST(d.error().message.find("the proxy 127.0.0.1:") != std::string::npos);
  for (const char* secret :
       {"PROXYSECRET", "QUERYSECRET", "TOKENSECRET", "KEYSECRET", "alice", "YWxpY2"}) {
    BOOST_TEST_INFO(secret);
    BOOST_TEST(logged.find(secret) == std::string::npos);
    BOOST_TEST(d.error().message.find(secret) == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(the_host_service_reports_through_the_c_struct) {
  bitnet_test::ScopedEnv env;
  quick(env);
  env.set("BITNET_OFFLINE", "1");
  TempDir dir;
  const bitnet_host_services* host = plugins::host_services_for("net-test");
  BOOST_REQUIRE(host->struct_size >= sizeof(bitnet_host_services));
  BOOST_REQUIRE(host->http_download != nullptr);

  bitnet_http_download_args args{};
  args.struct_size = sizeof args - 1;
  BOOST_TEST(host->http_download(host->ctx, &args) == BITNET_STATUS_INVALID_ARGUMENT);

  args.struct_size = sizeof args;
  BOOST_TEST(host->http_download(host->ctx, &args) == BITNET_STATUS_INVALID_ARGUMENT);
  BOOST_TEST(std::string(args.error).find("url and dest_path") != std::string::npos);

  const std::string url = url_on(closed_port());
  const std::string dest = (dir.path / "f.json").string();
  const bitnet_http_header auth{"Authorization", "Bearer TOKENSECRET"};
  args.url = url.c_str();
  args.dest_path = dest.c_str();
  args.headers = &auth;
  args.n_headers = 1;
  BOOST_TEST(host->http_download(host->ctx, &args) == BITNET_STATUS_NETWORK);
  BOOST_TEST(std::string(args.error).find("offline mode") != std::string::npos);
  BOOST_TEST(std::string(args.error).find("TOKENSECRET") == std::string::npos);
  BOOST_TEST(args.http_status == 0);

  write_file(dest, "hello");
  BOOST_TEST(host->http_download(host->ctx, &args) == BITNET_STATUS_OK);
  BOOST_TEST(args.bytes == 5);
  BOOST_TEST(std::string(args.sha256) == kHelloSha);
  BOOST_TEST(args.error[0] == '\0');
}

BOOST_AUTO_TEST_SUITE_END()

// `bitnet serve` as a child process on 127.0.0.1 and small clients to talk to it: a Beast
// request/response client and a raw socket for what well-behaved clients never send.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace bitnet_test {

using namespace std::chrono_literals;

class ServerProcess {
 public:
  // Runs `env bitnet serve --port 0 args` and waits until it says it is ready (or, with
  // wait_ready false, only until it listens).
  explicit ServerProcess(const std::string& args, const std::string& env = "",
                         bool wait_ready = true) {
    char path[] = "/tmp/bitnet-serve-log-XXXXXX";
    const int fd = mkstemp(path);
    BOOST_REQUIRE(fd >= 0);
    close(fd);
    log_path_ = path;
    const std::string cmd = "exec env " + env + " '" BITNET_CLI "' serve --port 0 " + args + " >'" +
                            log_path_ + "' 2>&1";
    pid_ = fork();
    BOOST_REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    const std::regex listening("listening on http://[^:]+:([0-9]+)");
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string text = log();
      std::smatch m;
      if (!port_ && std::regex_search(text, m, listening)) port_ = std::stoi(m[1]);
      if (port_ && (!wait_ready || text.find("server: ready:") != std::string::npos)) return;
      if (!running()) break;
      std::this_thread::sleep_for(20ms);
    }
    BOOST_FAIL("bitnet serve did not start:\n" + log());
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() {
    if (pid_ > 0 && exit_code_ == kRunning) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    unlink(log_path_.c_str());
  }

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string log() const {
    std::ifstream in(log_path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  bool running() {
    if (exit_code_ != kRunning) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      return false;
    }
    return true;
  }
  // Sends `signal` and waits (at most `limit`) for the exit code; -1 when it had to be killed.
  int stop(int signal = SIGTERM, std::chrono::seconds limit = 30s) {
    if (running()) kill(pid_, signal);
    return wait_exit(limit);
  }
  // Waits (at most `limit`) for the exit code without signalling; -1 when it had to be killed.
  int wait_exit(std::chrono::seconds limit = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    if (running()) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      exit_code_ = -1;
    }
    return exit_code_;
  }

 private:
  static constexpr int kRunning = -1000;
  pid_t pid_ = -1;
  std::string log_path_;
  uint16_t port_ = 0;
  int exit_code_ = kRunning;
};

struct Reply {
  unsigned status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
};

// One request on a fresh connection.
inline Reply http_request(uint16_t port, const std::string& method, const std::string& target,
                          const std::string& body = "",
                          const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  namespace http = boost::beast::http;
  boost::asio::io_context io;
  boost::beast::tcp_stream stream(io);
  stream.expires_after(60s);
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, "127.0.0.1");
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  for (const auto& [k, v] : headers)
    req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  http::read(stream, buffer, parser);
  Reply r{parser.get().result_int(), parser.get().body(), {}};
  for (const auto& f : parser.get()) {
    std::string name(f.name_string());
    for (char& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(f.value());
  }
  return r;
}

// A plain TCP connection to 127.0.0.1, for requests no HTTP library would write.
class RawSocket {
 public:
  explicit RawSocket(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    BOOST_REQUIRE(fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;
  ~RawSocket() { close_now(); }

  bool connected() const { return connected_; }
  int fd() const { return fd_; }
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Reads what arrives within `wait`; false once the peer has closed (or on error).
  bool read_some(std::string& into, std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(wait.count())) <= 0) return true;
    char buf[16384];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    into.append(buf, static_cast<size_t>(n));
    return true;
  }
  // Reads until `text` has arrived, the peer closes, or `limit` passes.
  std::string read_until(std::string_view text, std::chrono::milliseconds limit = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (received_.find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline)
      if (!read_some(received_, 50ms)) break;
    return received_;
  }
  // Reads until the peer closes or `limit` passes; true when it closed.
  bool read_to_close(std::chrono::milliseconds limit = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline)
      if (!read_some(received_, 50ms)) return true;
    return false;
  }
  const std::string& received() const { return received_; }
  void close_now() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string received_;
};

inline std::string post_text(const std::string& target, const std::string& body,
                             const std::string& extra_headers = "") {
  return "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Runs a shell command; its stdout and stderr together.
inline std::pair<int, std::string> run_command(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  BOOST_REQUIRE(p);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p))
    out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// The status code of the first response in `raw`, 0 when there is none.
inline unsigned status_of(const std::string& raw) {
  if (raw.compare(0, 9, "HTTP/1.1 ") != 0 || raw.size() < 12) return 0;
  return static_cast<unsigned>(std::stoi(raw.substr(9, 3)));
}

}  // namespace bitnet_test

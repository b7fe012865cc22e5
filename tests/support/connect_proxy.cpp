// A CONNECT proxy as corporate networks have: the client asks it in plain HTTP for a tunnel to
// host:port, then speaks TLS through it end to end.
#include <boost/asio/connect.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <poll.h>
#include <unistd.h>

#include <istream>
#include <mutex>
#include <optional>

#include "listener.hpp"
#include "test_hub.hpp"

namespace bitnet_test {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

bool send(tcp::socket& s, std::string_view data) {
  boost::system::error_code ec;
  net::write(s, net::buffer(data.data(), data.size()), ec);
  return !ec;
}

// Copies bytes both ways until either side closes.
void pump(tcp::socket& a, tcp::socket& b) {
  char buf[16384];
  pollfd fds[2] = {{a.native_handle(), POLLIN, 0}, {b.native_handle(), POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) return;
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) return;
      for (ssize_t done = 0; done < n;) {
        const ssize_t w = ::write(fds[1 - i].fd, buf + done, static_cast<size_t>(n - done));
        if (w <= 0) return;
        done += w;
      }
    }
  }
}

}  // namespace

struct ConnectProxy::Impl {
  mutable std::mutex mu;
  std::vector<std::string> targets, authorizations;
  std::optional<Listener> listener;

  Impl() {
    listener.emplace([this](tcp::socket& s) { serve(s); });
  }
  ~Impl() { listener->stop(); }

  void serve(tcp::socket& client) {
    net::streambuf head(16 * 1024);
    boost::system::error_code ec;
    net::read_until(client, head, "\r\n\r\n", ec);
    if (ec) return;
    std::istream in(&head);
    std::string method, target, version, line, authorization;
    in >> method >> target >> version;
    std::getline(in, line);
    while (std::getline(in, line) && line != "\r") {
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (name == "proxy-authorization") {
        authorization = line.substr(line.find_first_not_of(' ', colon + 1));
        if (!authorization.empty() && authorization.back() == '\r') authorization.pop_back();
      }
    }
    if (method != "CONNECT") {
      send(client, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    {
      std::lock_guard lock(mu);
      targets.push_back(target);
      authorizations.push_back(authorization);
    }
    const size_t colon = target.rfind(':');
    tcp::socket upstream(client.get_executor());
    if (colon != std::string::npos) {
      tcp::resolver resolver(client.get_executor());
      auto endpoints = resolver.resolve(target.substr(0, colon), target.substr(colon + 1), ec);
      if (!ec) net::connect(upstream, endpoints, ec);
    }
    if (colon == std::string::npos || ec) {
      send(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    if (!send(client, "HTTP/1.1 200 Connection established\r\n\r\n")) return;
    // Whatever the client sent after its request head already belongs to the tunnel.
    if (head.size() > 0) {
      const auto data = head.data();
      std::string early(net::buffers_begin(data), net::buffers_end(data));
      if (!send(upstream, early)) return;
    }
    pump(client, upstream);
  }
};

ConnectProxy::ConnectProxy() : impl_(std::make_unique<Impl>()) {}
ConnectProxy::~ConnectProxy() = default;

uint16_t ConnectProxy::port() const {
  return impl_->listener->port();
}

std::vector<std::string> ConnectProxy::connects() const {
  std::lock_guard lock(impl_->mu);
  return impl_->targets;
}

std::vector<std::string> ConnectProxy::proxy_authorizations() const {
  std::lock_guard lock(impl_->mu);
  return impl_->authorizations;
}

}  // namespace bitnet_test

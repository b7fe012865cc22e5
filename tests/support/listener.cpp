#include "listener.hpp"

#include <sys/socket.h>

namespace bitnet_test {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Listener::Listener(Handler handler)
    : acceptor_(io_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)),
      handler_(std::move(handler)) {
  port_ = acceptor_.local_endpoint().port();
  accept_thread_ = std::thread([this] { accept_loop(); });
}

Listener::~Listener() {
  stop();
}

bool Listener::pause(std::chrono::milliseconds how_long) {
  std::unique_lock lock(mu_);
  return !wake_.wait_for(lock, how_long, [this] { return stopping_; });
}

void Listener::accept_loop() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = acceptor_.accept(ec);
    std::lock_guard lock(mu_);
    if (stopping_) return;
    if (ec) continue;
    reap_finished();
    ++accepted_;
    Connection& c = connections_.emplace_back(Connection{std::move(socket), {}, false});
    c.thread = std::thread([this, &c] { serve(c); });
  }
}

void Listener::serve(Connection& c) {
  handler_(c.socket);
  // Closed under the lock: stop() shuts sockets down by descriptor, which must not be reused
  // by then.
  std::lock_guard lock(mu_);
  boost::system::error_code ignored;
  c.socket.close(ignored);
  c.done = true;
}

void Listener::reap_finished() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (!it->done) {
      ++it;
      continue;
    }
    it->thread.join();
    it = connections_.erase(it);
  }
}

void Listener::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    // A blocked accept() or read() returns once its socket is shut down (Linux).
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    for (Connection& c : connections_)
      if (!c.done) ::shutdown(c.socket.native_handle(), SHUT_RDWR);
  }
  wake_.notify_all();
  accept_thread_.join();
  for (Connection& c : connections_)
    c.thread.join();
  connections_.clear();
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

}  // namespace bitnet_test

// The accept loop the test hub and the CONNECT proxy share: a socket on 127.0.0.1 with a port
// the OS picks, one thread per connection, and a stop that wakes every blocked thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <thread>

namespace bitnet_test {

class Listener {
 public:
  using Handler = std::function<void(boost::asio::ip::tcp::socket&)>;

  // handler runs on the connection's own thread; the socket is closed when it returns.
  explicit Listener(Handler handler);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  uint16_t port() const { return port_; }
  size_t connections() const { return accepted_; }
  // Sleeps for `how_long` unless the listener stops first; false when it is stopping.
  bool pause(std::chrono::milliseconds how_long);
  // Closes the listener to new connections and wakes and joins every connection's thread.
  void stop();

 private:
  struct Connection {
    boost::asio::ip::tcp::socket socket;
    std::thread thread;
    bool done = false;
  };
  void accept_loop();
  void serve(Connection& c);
  void reap_finished();

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  Handler handler_;
  uint16_t port_ = 0;
  std::atomic<size_t> accepted_{0};
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::list<Connection> connections_;
  std::thread accept_thread_;
};

}  // namespace bitnet_test

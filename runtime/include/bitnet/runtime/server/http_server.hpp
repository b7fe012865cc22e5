// HTTP/1.1 on Boost.Beast: accepts connections, reads each request within the size and time
// limits, hands it to Routes, and writes the answer back whole or as a chunked event stream.
// While a response is being produced the connection keeps reading, so a client that goes
// away is noticed at once (and its job cancelled). Errors of HTTP itself (malformed request,
// body or headers too large, a request that does not arrive in time) are answered here with
// the same OpenAI-style error object as the routes use, then the connection is closed.
#pragma once

#include <bitnet/runtime/error.hpp>
#include <bitnet/runtime/server/metrics.hpp>
#include <bitnet/runtime/server/options.hpp>
#include <bitnet/runtime/server/routes.hpp>

#include <cstdint>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace bitnet::server {

class HttpServer {
 public:
  // Binds options.host:options.port (0: any free port) and serves on options.http_threads
  // threads until destroyed.
  static Result<std::unique_ptr<HttpServer>> start(const ServerOptions& options, Routes& routes,
                                                   Metrics& metrics);
  ~HttpServer();

  uint16_t port() const;
  boost::asio::io_context& io();
  // Closes the listening socket; connections already open go on. Connections close after
  // their current response.
  void stop_accepting();
  // Requests read and not yet answered in full.
  int64_t in_flight() const;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bitnet::server

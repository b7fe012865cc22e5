#include <bitnet/runtime/log.hpp>
#include <bitnet/runtime/server/http_server.hpp>
#include <bitnet/runtime/server/openai_json.hpp>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <atomic>
#include <deque>
#include <sstream>
#include <thread>

namespace bitnet::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

constexpr size_t kHeaderLimit = 16 * 1024;
// Bytes a client may send ahead (pipelined requests) while its response is being produced;
// past this the connection stops reading until the response is out.
constexpr size_t kReadAhead = 64 * 1024;

struct Shared {
  const ServerOptions& options;
  Routes& routes;
  Metrics& metrics;
  std::atomic<int64_t> in_flight{0};
  std::atomic<bool> draining{false};
};

std::string chunk(std::string_view data) {
  char size[20];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out(size);
  out += data;
  out += "\r\n";
  return out;
}

class Connection final : public Responder, public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Shared& shared)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), shared_(shared) {}

  void start() { read_request(); }

  void respond(unsigned status, std::string content_type, std::string body,
               Headers headers) override {
    post([status, content_type = std::move(content_type), body = std::move(body),
          headers = std::move(headers)](Connection& c) mutable {
      c.write_response(status, content_type, std::move(body), headers);
    });
  }
  void begin_events() override {
    post([](Connection& c) {
      if (!c.responding_) return;
      http::response<http::empty_body> res{http::status::ok, 11};
      res.set(http::field::server, "bitnet");
      res.set(http::field::content_type, "text/event-stream");
      res.set(http::field::cache_control, "no-cache");
      res.chunked(true);
      res.keep_alive(c.keep_alive_ && !c.shared_.draining);
      c.count(200);
      std::ostringstream head;
      head << res.base();
      c.send(head.str(), false);
    });
  }
  void event(std::string framed) override {
    post([framed = std::move(framed)](Connection& c) {
      if (c.responding_) c.send(chunk(framed), false);
    });
  }
  void end_events() override {
    post([](Connection& c) {
      if (c.responding_) c.send("0\r\n\r\n", true);
    });
  }
  void on_disconnect(std::function<void()> f) override {
    post([f = std::move(f)](Connection& c) mutable {
      if (c.responding_)
        c.disconnect_ = std::move(f);
      else
        f();  // already gone (or already answered: then the job is over anyway)
    });
  }

 private:
  template <class F>
  void post(F f) {
    net::post(socket_.get_executor(),
              [self = shared_from_this(), f = std::move(f)]() mutable { f(*self); });
  }

  // One timer guards whatever the connection waits for: the request's arrival, or the
  // client's acceptance of the current write. A generation number makes a late expiry of an
  // earlier wait harmless.
  void arm(std::chrono::milliseconds after) {
    const uint64_t gen = ++timer_gen_;
    timer_.expires_after(after);
    timer_.async_wait([self = shared_from_this(), gen](error_code ec) {
      if (ec || gen != self->timer_gen_) return;
      self->timed_out_ = true;
      error_code ignored;
      self->socket_.cancel(ignored);
    });
  }
  void disarm() {
    ++timer_gen_;
    timer_.cancel();
  }

  void read_request() {
    if (closed_) return;
    if (shared_.draining) return close();
    parser_.emplace();
    parser_->body_limit(shared_.options.max_body_bytes);
    parser_->header_limit(kHeaderLimit);
    timed_out_ = false;
    arm(shared_.options.read_timeout);
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, size_t) { self->on_request(ec); });
  }

  void on_request(error_code ec) {
    disarm();
    if (closed_) return;
    if (ec) return request_failed(ec);
    http::request<http::string_body>& req = parser_->get();
    keep_alive_ = req.keep_alive();
    const std::string_view target(req.target().data(), req.target().size());
    endpoint_ = metrics_endpoint(target.substr(0, target.find('?')));
    responding_ = true;
    ++shared_.in_flight;
    log::debug("server", std::string_view(req.method_string().data(), req.method_string().size()),
               " ", endpoint_);
    const auto field = [&](http::field f) {
      const auto v = req[f];
      return std::string_view(v.data(), v.size());
    };
    shared_.routes.handle(
        HttpRequest{std::string_view(req.method_string().data(), req.method_string().size()),
                    target, field(http::field::authorization), req.body()},
        shared_from_this());
    watch();
  }

  // The request could not be read: answer what HTTP allows, then close.
  void request_failed(error_code ec) {
    const bool got_some = parser_->got_some();
    endpoint_ = "other";
    if (timed_out_) {
      if (!got_some) return close();  // an idle keep-alive connection: nothing to answer
      return fail(408,
                  "the request did not arrive within " +
                      std::to_string(shared_.options.read_timeout.count()) + " ms",
                  "request_timeout");
    }
    if (ec == http::error::body_limit)
      return fail(413,
                  "the request body is larger than " +
                      std::to_string(shared_.options.max_body_bytes) + " bytes",
                  "request_too_large");
    if (ec == http::error::header_limit)
      return fail(431,
                  "the request headers are larger than " + std::to_string(kHeaderLimit) + " bytes",
                  "headers_too_large");
    // The peer closed or reset the connection: between requests that is normal, and mid-request
    // there is no one left to answer.
    const bool http_error =
        ec.category() == http::make_error_code(http::error::bad_target).category();
    if (!http_error || ec == http::error::end_of_stream || ec == http::error::partial_message)
      return close();
    fail(400, "malformed HTTP request: " + ec.message(), "bad_request");
  }

  void fail(unsigned status, std::string message, std::string code) {
    responding_ = true;
    ++shared_.in_flight;
    keep_alive_ = false;
    write_response(status, "application/json",
                   error_body(ApiError{
                       status, std::move(message), "invalid_request_error", std::move(code), {}}),
                   {});
  }

  // While the response is produced, a read that notices the client leaving; bytes that
  // arrive (a pipelined request) stay in the buffer for the next request.
  void watch() {
    if (watching_ || closed_ || buffer_.size() >= kReadAhead) return;
    watching_ = true;
    socket_.async_read_some(
        buffer_.prepare(4096),
        [self = shared_from_this()](error_code ec, size_t n) { self->on_watch(ec, n); });
  }
  void on_watch(error_code ec, size_t n) {
    watching_ = false;
    if (closed_) return;
    if (!ec) buffer_.commit(n);
    if (!ec && responding_) return watch();
    // The response is complete (and this read was cancelled, or brought pipelined bytes).
    if ((!ec || ec == net::error::operation_aborted) && !responding_)
      return closing_ ? drain() : read_request();
    close();  // EOF or reset: the client went away
  }

  // Closing after a response: stop sending, then read and drop whatever the client still
  // sends, for up to a second. Closing with unread request bytes would make the kernel reset
  // the connection, and the client could lose the response (a 413 or 408 above all).
  void drain() {
    if (closed_) return;
    if (!draining_) {
      draining_ = true;
      error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_send, ignored);
      arm(std::chrono::seconds(1));
    }
    socket_.async_read_some(net::buffer(discard_),
                            [self = shared_from_this()](error_code ec, size_t) {
                              if (ec) return self->close();
                              self->drain();
                            });
  }

  void count(unsigned status) { shared_.metrics.count_request(endpoint_, status); }

  void write_response(unsigned status, const std::string& content_type, std::string body,
                      const Headers& headers) {
    if (!responding_ || response_started_) return;
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::server, "bitnet");
    res.set(http::field::content_type, content_type);
    for (const auto& [name, value] : headers)
      res.set(name, value);
    res.keep_alive(keep_alive_ && !shared_.draining);
    res.body() = std::move(body);
    res.prepare_payload();
    count(status);
    std::ostringstream text;
    text << res;
    send(text.str(), true);
  }

  void send(std::string data, bool last) {
    if (closed_) return;
    response_started_ = true;
    out_.push_back(std::move(data));
    if (last) last_queued_ = true;
    if (!writing_) write_next();
  }
  void write_next() {
    if (closed_) return;
    if (out_.empty()) {
      writing_ = false;
      if (last_queued_) response_done();
      return;
    }
    writing_ = true;
    batch_.clear();
    std::swap(batch_, out_);
    std::vector<net::const_buffer> buffers;
    for (const std::string& s : batch_)
      buffers.push_back(net::buffer(s));
    timed_out_ = false;
    arm(shared_.options.write_timeout);
    net::async_write(socket_, buffers, [self = shared_from_this()](error_code ec, size_t) {
      self->disarm();
      if (ec) return self->close();  // the client stopped reading or went away
      self->write_next();
    });
  }

  void response_done() {
    last_queued_ = false;
    responding_ = false;
    response_started_ = false;
    disconnect_ = nullptr;
    --shared_.in_flight;
    closing_ = !keep_alive_ || shared_.draining;
    if (watching_) {
      error_code ignored;
      socket_.cancel(ignored);  // on_watch then reads the next request, or drains
      return;
    }
    closing_ ? drain() : read_request();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    disarm();
    error_code ignored;
    socket_.close(ignored);
    out_.clear();
    if (responding_) {
      responding_ = false;
      --shared_.in_flight;
      if (disconnect_) std::exchange(disconnect_, nullptr)();
    }
  }

  tcp::socket socket_;
  net::steady_timer timer_;
  Shared& shared_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::deque<std::string> out_;
  std::deque<std::string> batch_;
  std::function<void()> disconnect_;
  std::string_view endpoint_ = "other";
  uint64_t timer_gen_ = 0;
  bool timed_out_ = false;
  bool keep_alive_ = false;
  bool responding_ = false;        // a request was read and its response is not complete
  bool response_started_ = false;  // its first bytes are queued
  bool last_queued_ = false;
  bool writing_ = false;
  bool watching_ = false;
  bool closing_ = false;   // the connection ends after this response
  bool draining_ = false;  // drain() has begun
  bool closed_ = false;
  std::array<char, 4096> discard_;
};

}  // namespace

struct HttpServer::Impl {
  Impl(const ServerOptions& options, Routes& routes, Metrics& metrics)
      : shared{options, routes, metrics}, acceptor(io) {}
  void accept() {
    acceptor.async_accept(net::make_strand(io), [this](error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<Connection>(std::move(socket), shared)->start();
      } else {
        log::warn("server", "accept failed: ", ec.message());
      }
      accept();
    });
  }

  net::io_context io;
  Shared shared;
  tcp::acceptor acceptor;
  net::executor_work_guard<net::io_context::executor_type> work{io.get_executor()};
  std::vector<std::thread> threads;
};

Result<std::unique_ptr<HttpServer>> HttpServer::start(const ServerOptions& options, Routes& routes,
                                                      Metrics& metrics) {
  auto impl = std::make_unique<Impl>(options, routes, metrics);
  error_code ec;
  tcp::resolver resolver(impl->io);
  const auto found =
      resolver.resolve(options.host, std::to_string(options.port), tcp::resolver::passive, ec);
  if (ec || found.empty())
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      "cannot resolve --host " + options.host + ": " + ec.message());
  const tcp::endpoint at = found.begin()->endpoint();
  tcp::acceptor& a = impl->acceptor;
  if (a.open(at.protocol(), ec); !ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(at, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(BITNET_STATUS_IO, "cannot listen on " + options.host + ":" +
                                            std::to_string(options.port) + ": " + ec.message() +
                                            "; choose another --port or --host");
  impl->accept();
  for (int i = 0; i < std::max(options.http_threads, 1); ++i)
    impl->threads.emplace_back([io = &impl->io] { io->run(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  impl_->work.reset();
  impl_->io.stop();
  for (std::thread& t : impl_->threads)
    t.join();
}

uint16_t HttpServer::port() const {
  error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

boost::asio::io_context& HttpServer::io() {
  return impl_->io;
}

void HttpServer::stop_accepting() {
  impl_->shared.draining = true;
  net::post(impl_->io, [impl = impl_.get()] {
    error_code ignored;
    impl->acceptor.close(ignored);
  });
}

int64_t HttpServer::in_flight() const {
  return impl_->shared.in_flight;
}

}  // namespace bitnet::server

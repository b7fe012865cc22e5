#include "http_client.hpp"

#include "tls.hpp"

#include <bitnet/runtime/log.hpp>
#include <bitnet/runtime/version.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <array>
#include <limits>

namespace bitnet::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string seconds(std::chrono::milliseconds t) {
  const auto ms = t.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

bool closed(const error_code& ec) {
  return ec == asio::error::eof || ec == http::error::end_of_stream ||
         ec == http::error::partial_message || ec == ssl::error::stream_truncated ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

class Session {
 public:
  Session(asio::io_context& ioc, ssl::context& ctx, const Request& request,
          const std::function<bool(const Response&)>& on_response,
          const std::function<bool(const char*, size_t)>& sink)
      : resolver_(ioc),
        deadline_(ioc),
        stream_(ioc, ctx),
        request_(request),
        on_response_(on_response),
        sink_(sink) {}

  Outcome outcome;

  asio::awaitable<void> run() {
    if (!co_await connect()) co_return;
    if (request_.proxy && !co_await tunnel()) co_return;
    if (!co_await handshake()) co_return;
    if (!co_await send()) co_return;
    http::response_parser<http::buffer_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    if (!co_await read_headers(parser)) co_return;
    if (!on_response_(*outcome.response)) co_return;
    co_await read_body(parser);
  }

 private:
  bool fail(Failure kind, std::string message) {
    outcome.failure = kind;
    outcome.message = std::move(message);
    return false;
  }

  std::string where() const {
    return request_.proxy ? request_.url.authority(true) + " (through the proxy " +
                                request_.proxy->display() + ")"
                          : request_.url.authority(true);
  }

  void arm() { beast::get_lowest_layer(stream_).expires_after(request_.timeout); }

  asio::awaitable<bool> connect() {
    const std::string host = request_.proxy ? request_.proxy->host : request_.url.host;
    const uint16_t port = request_.proxy ? request_.proxy->port : request_.url.port;
    const std::string name = request_.proxy
                                 ? "the proxy " + request_.proxy->display() + " (HTTPS_PROXY)"
                                 : host + ":" + std::to_string(port);
    // Members, not locals: the timer's handler may run after the lookup has finished.
    deadline_.expires_after(request_.timeout);
    deadline_.async_wait([this](error_code ec) {
      if (!ec) resolver_.cancel();
    });
    auto [rec, endpoints] = co_await resolver_.async_resolve(host, std::to_string(port), kTuple);
    deadline_.cancel();
    if (rec == asio::error::operation_aborted)
      co_return fail(Failure::timeout,
                     "looking up " + name + " took longer than " + seconds(request_.timeout));
    if (rec) co_return fail(Failure::connect, "cannot resolve " + name + ": " + rec.message());
    arm();
    auto [cec, ep] = co_await beast::get_lowest_layer(stream_).async_connect(endpoints, kTuple);
    if (cec == beast::error::timeout)
      co_return fail(Failure::timeout,
                     "connecting to " + name + " took longer than " + seconds(request_.timeout));
    if (cec) co_return fail(Failure::connect, "cannot connect to " + name + ": " + cec.message());
    co_return true;
  }

  asio::awaitable<bool> tunnel() {
    const Proxy& proxy = *request_.proxy;
    http::request<http::empty_body> req{http::verb::connect, request_.url.authority(true), 11};
    req.set(http::field::host, request_.url.authority(true));
    if (!proxy.authorization.empty())
      req.set(http::field::proxy_authorization, proxy.authorization);
    auto& tcp_stream = beast::get_lowest_layer(stream_);
    arm();
    if (auto [ec, n] = co_await http::async_write(tcp_stream, req, kTuple); ec)
      co_return fail(Failure::connect,
                     "the proxy " + proxy.display() + " dropped the CONNECT: " + ec.message());
    http::response_parser<http::empty_body> parser;
    parser.skip(true);
    arm();
    if (auto [ec, n] = co_await http::async_read_header(tcp_stream, buffer_, parser, kTuple); ec)
      co_return fail(
          ec == beast::error::timeout ? Failure::timeout : Failure::connect,
          "the proxy " + proxy.display() + " did not answer the CONNECT: " + ec.message());
    const unsigned status = parser.get().result_int();
    if (status == 407)
      co_return fail(Failure::refused,
                     "the proxy " + proxy.display() +
                         " wants credentials (407); put user:password in HTTPS_PROXY "
                         "(http://user:password@host:port)");
    // A gateway error (502, 503, 504) may pass; a policy refusal (403) will not.
    if (status / 100 != 2)
      co_return fail(status >= 500 ? Failure::connect : Failure::refused,
                     "the proxy " + proxy.display() + " refused to connect to " +
                         request_.url.authority(true) + " (HTTP " + std::to_string(status) + ")");
    log::debug("net", "tunnel to ", request_.url.authority(true), " through ", proxy.display());
    co_return true;
  }

  asio::awaitable<bool> handshake() {
    if (auto r = configure_connection(stream_.native_handle(), request_.url.host); !r)
      co_return fail(Failure::refused, r.error().message);
    arm();
    auto [ec] = co_await stream_.async_handshake(ssl::stream_base::client, kTuple);
    if (ec == beast::error::timeout)
      co_return fail(Failure::timeout, "the TLS handshake with " + where() + " took longer than " +
                                           seconds(request_.timeout));
    if (ec) {
      const bool refused = SSL_get_verify_result(stream_.native_handle()) != X509_V_OK;
      co_return fail(refused ? Failure::refused : Failure::connect,
                     handshake_failure(stream_.native_handle(), where(), ec.message()));
    }
    co_return true;
  }

  asio::awaitable<bool> send() {
    http::request<http::empty_body> req{http::verb::get, request_.url.target, 11};
    req.set(http::field::host, request_.url.authority());
    req.set(http::field::user_agent, std::string("bitnet/") + kVersion);
    req.set(http::field::accept_encoding, "identity");
    req.set(http::field::connection, "close");
    if (request_.range_from > 0)
      req.set(http::field::range, "bytes=" + std::to_string(request_.range_from) + "-");
    for (const auto& [name, value] : request_.headers) {
      const std::string n = lower(name);
      if (n != "host" && n != "range" && n != "connection") req.set(name, value);
    }
    arm();
    auto [ec, n] = co_await http::async_write(stream_, req, kTuple);
    if (ec == beast::error::timeout)
      co_return fail(Failure::timeout, "sending the request to " + where() + " timed out");
    if (ec)
      co_return fail(Failure::dropped,
                     "the connection to " + where() + " closed while sending: " + ec.message());
    co_return true;
  }

  asio::awaitable<bool> read_headers(http::response_parser<http::buffer_body>& parser) {
    arm();
    auto [ec, n] = co_await http::async_read_header(stream_, buffer_, parser, kTuple);
    if (ec == beast::error::timeout)
      co_return fail(Failure::timeout,
                     where() + " sent no response within " + seconds(request_.timeout));
    if (ec)
      co_return fail(closed(ec) ? Failure::dropped : Failure::connect,
                     "no response from " + where() + ": " + ec.message());
    Response r;
    r.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get())
      r.headers.emplace_back(lower(field.name_string()), std::string(field.value()));
    outcome.response = std::move(r);
    co_return true;
  }

  asio::awaitable<void> read_body(http::response_parser<http::buffer_body>& parser) {
    std::array<char, 64 * 1024> buf;
    int64_t received = 0;
    while (!parser.is_done()) {
      parser.get().body().data = buf.data();
      parser.get().body().size = buf.size();
      arm();
      auto [ec, n] = co_await http::async_read(stream_, buffer_, parser, kTuple);
      const size_t got = buf.size() - parser.get().body().size;
      if (got > 0 && !sink_(buf.data(), got)) {
        fail(Failure::stopped, "");
        co_return;
      }
      received += static_cast<int64_t>(got);
      if (ec == http::error::need_buffer) continue;
      if (ec == ssl::error::stream_truncated && parser.need_eof()) {
        // A body that ends at EOF has no length to check; the SHA-256 and validate remain.
        error_code ignored;
        parser.put_eof(ignored);
        break;
      }
      if (ec == beast::error::timeout) {
        fail(Failure::timeout, where() + " stalled: no data for " + seconds(request_.timeout) +
                                   " after " + std::to_string(received) + " bytes of the body");
        co_return;
      }
      if (ec) {
        fail(Failure::dropped, "the connection to " + where() + " closed after " +
                                   std::to_string(received) + " bytes of the body (" +
                                   ec.message() + ")");
        co_return;
      }
    }
    // One request on a closing connection: anything after the body is a longer body.
    outcome.overlong = buffer_.size() > 0;
  }

  tcp::resolver resolver_;
  asio::steady_timer deadline_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  const Request& request_;
  const std::function<bool(const Response&)>& on_response_;
  const std::function<bool(const char*, size_t)>& sink_;
};

}  // namespace

std::optional<std::string> Response::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return value;
  return std::nullopt;
}

Result<Outcome> fetch(const Request& request,
                      const std::function<bool(const Response&)>& on_response,
                      const std::function<bool(const char* data, size_t size)>& sink) {
  ssl::context ctx(ssl::context::tls_client);
  if (auto r = configure_client_context(ctx.native_handle(), request.ca_bundle); !r)
    return r.error();
  asio::io_context ioc;
  Session session(ioc, ctx, request, on_response, sink);
  std::string crashed;
  asio::co_spawn(ioc, session.run(), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      crashed = x.what();
    }
  });
  ioc.run();
  if (!crashed.empty())
    return make_error(BITNET_STATUS_INTERNAL, "the download from " + request.url.authority(true) +
                                                  " failed inside the HTTP client: " + crashed);
  return std::move(session.outcome);
}

}  // namespace bitnet::net

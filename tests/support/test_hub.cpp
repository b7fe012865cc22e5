// The hub's TLS connections: read a request, record it, answer it from the files or with the
// next matching fault.
#include "test_hub.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>
#include <deque>
#include <mutex>
#include <optional>

#include "hub_files.hpp"
#include "listener.hpp"

namespace bitnet_test {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using Stream = ssl::stream<tcp::socket&>;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string head_of(const hub::Reply& r, int64_t content_length) {
  std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " +
                     std::string(http::obsolete_reason(static_cast<http::status>(r.status))) +
                     "\r\n";
  for (const auto& [name, value] : r.headers)
    head += name + ": " + value + "\r\n";
  head += "Content-Length: " + std::to_string(content_length) + "\r\n\r\n";
  return head;
}

bool send(Stream& stream, std::string_view data) {
  boost::system::error_code ec;
  net::write(stream, net::buffer(data.data(), data.size()), ec);
  return !ec;
}

// The fault's reply when it replaces the normal one outright.
hub::Reply fault_reply(const Fault& f, const hub::Reply& normal) {
  if (f.kind == Fault::redirect) {
    hub::Reply r = hub::status_reply(302, "redirected by a test fault");
    r.set_header("Location", f.location);
    // As HF does for LFS files, so a client may learn the sha256 before following.
    if (normal.is_file) {
      r.set_header("X-Linked-Etag", "\"" + normal.sha256 + "\"");
      r.set_header("X-Linked-Size", std::to_string(normal.file_size));
    }
    return r;
  }
  if (f.kind == Fault::replace_body) {
    hub::Reply r = normal;
    r.status = 200;
    r.content = std::make_shared<const std::string>(f.body);
    r.begin = 0;
    r.end = f.body.size();
    r.sha256 = hub::sha256_hex(f.body);
    r.file_size = static_cast<int64_t>(f.body.size());
    std::erase_if(r.headers, [](const auto& h) { return h.first == "Content-Range"; });
    r.set_header("ETag", "\"" + r.sha256 + "\"");
    return r;
  }
  if (f.kind == Fault::ignore_range) {
    hub::Reply r = normal;
    if (r.is_file && (r.status == 206 || r.status == 416)) {
      r.status = 200;
      r.begin = 0;
      r.end = r.content->size();
      std::erase_if(r.headers, [](const auto& h) { return h.first == "Content-Range"; });
    }
    return r;
  }
  if (f.kind == Fault::wrong_bytes) {
    hub::Reply r = normal;
    auto changed = std::make_shared<std::string>(*normal.content);
    for (size_t i = r.begin; i < r.end; i += std::max<size_t>(1, (r.end - r.begin) / 7))
      (*changed)[i] = static_cast<char>((*changed)[i] ^ 0x5a);
    r.content = std::move(changed);
    return r;
  }
  hub::Reply r = hub::status_reply(f.code, "answered by a test fault");
  if (f.code == 429) r.set_header("Retry-After", "0");
  if (f.code == 416 && normal.is_file)
    r.set_header("Content-Range", "bytes */" + std::to_string(normal.file_size));
  return r;
}

}  // namespace

struct TestHub::Impl {
  hub::Files files;
  ssl::context tls{ssl::context::tls_server};
  mutable std::mutex mu;
  std::deque<std::pair<std::string, Fault>> faults;
  std::vector<SeenRequest> seen;
  std::optional<Listener> listener;

  Impl(std::filesystem::path root, const TestCerts& certs) : files(std::move(root)) {
    tls.use_certificate_chain_file(certs.cert_pem.string());
    tls.use_private_key_file(certs.key_pem.string(), ssl::context::pem);
    listener.emplace([this](tcp::socket& s) { serve(s); });
  }
  ~Impl() { listener->stop(); }

  std::optional<Fault> take_fault(const std::string& target) {
    std::lock_guard lock(mu);
    for (auto it = faults.begin(); it != faults.end(); ++it)
      if (target.starts_with(it->first)) {
        Fault f = std::move(it->second);
        faults.erase(it);
        return f;
      }
    return std::nullopt;
  }

  void serve(tcp::socket& socket) {
    Stream stream(socket, tls);
    boost::system::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) return;
    const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request<http::empty_body> req;
      http::read(stream, buffer, req, ec);
      if (ec) return;
      SeenRequest s;
      s.method = std::string(req.method_string());
      s.target = std::string(req.target());
      s.host = std::string(req[http::field::host]);
      s.authorization = std::string(req[http::field::authorization]);
      s.range = std::string(req[http::field::range]);
      for (const auto& field : req)
        s.headers[lower(std::string(field.name_string()))] = std::string(field.value());
      s.sni = sni ? sni : "";
      {
        std::lock_guard lock(mu);
        seen.push_back(s);
      }
      const bool head_only = req.method() == http::verb::head;
      const hub::Reply normal = files.answer(s.method, s.target, s.authorization, s.range);
      if (!respond(stream, head_only, normal, take_fault(s.target)) || !req.keep_alive()) return;
    }
  }

  // False when the connection must end (a fault that cuts it, or a failed write).
  bool respond(Stream& stream, bool head_only, const hub::Reply& normal,
               const std::optional<Fault>& fault) {
    const int64_t length = static_cast<int64_t>(normal.end - normal.begin);
    if (fault && fault->kind == Fault::stall) {
      send(stream, head_of(normal, length));
      listener->pause(std::chrono::milliseconds(fault->stall_ms));
      return false;
    }
    if (fault && fault->kind == Fault::drop_after) {
      const auto n = static_cast<size_t>(std::clamp<int64_t>(fault->bytes, 0, length));
      if (send(stream, head_of(normal, length)) && !head_only)
        send(stream, normal.body().substr(0, n));
      return false;
    }
    if (fault && fault->kind == Fault::lie_length) {
      if (send(stream, head_of(normal, length + fault->bytes)) && !head_only)
        send(stream, normal.body());
      return false;
    }
    const hub::Reply reply = fault ? fault_reply(*fault, normal) : normal;
    const std::string_view body = reply.body();
    return send(stream, head_of(reply, static_cast<int64_t>(body.size()))) &&
           (head_only || send(stream, body));
  }
};

TestHub::TestHub(std::filesystem::path root, const TestCerts& certs)
    : impl_(std::make_unique<Impl>(std::move(root), certs)) {}
TestHub::~TestHub() = default;

uint16_t TestHub::port() const {
  return impl_->listener->port();
}
std::string TestHub::url() const {
  return "https://127.0.0.1:" + std::to_string(port());
}
std::string TestHub::other_host_url() const {
  return "https://localhost:" + std::to_string(port());
}
size_t TestHub::connections() const {
  return impl_->listener->connections();
}

void TestHub::push_fault(std::string path_prefix, Fault f) {
  std::lock_guard lock(impl_->mu);
  impl_->faults.emplace_back(std::move(path_prefix), std::move(f));
}

size_t TestHub::pending_faults() const {
  std::lock_guard lock(impl_->mu);
  return impl_->faults.size();
}

std::vector<SeenRequest> TestHub::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->seen;
}

void TestHub::clear_requests() {
  std::lock_guard lock(impl_->mu);
  impl_->seen.clear();
}

}  // namespace bitnet_test

// A local stand-in for huggingface.co for the download tests: an HTTPS server on 127.0.0.1 with
// a certificate made at test time, that speaks HF's URL scheme, serves real files from a folder
// and can be told to misbehave (statuses, redirects, stalls, cut or wrong bodies, lying
// Content-Length); and a plain CONNECT proxy in front of it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bitnet_test {

struct TestCerts {
  std::filesystem::path ca_pem, cert_pem, key_pem;
  std::filesystem::path other_ca_pem;  // a CA that signed nothing here: trusting only it must fail
};

// A CA and a server certificate for 127.0.0.1 and localhost (SAN IP + DNS), made with OpenSSL's
// API and written under dir (created if needed), plus an unrelated CA for a wrong-CA test.
// Another subject_alt_name (OpenSSL's syntax) makes a certificate for the wrong host.
TestCerts make_test_certs(const std::filesystem::path& dir,
                          const std::string& subject_alt_name = "IP:127.0.0.1,DNS:localhost");

struct Fault {  // what the next matching request gets instead of a normal answer
  enum Kind {
    status,
    redirect,
    stall,
    drop_after,
    wrong_bytes,
    replace_body,
    lie_length,
    ignore_range  // the whole file with 200, as a server without Range support answers
  } kind;
  int code = 0;            // status: 401/403/404/416/429/500/503 ... (429 sends Retry-After: 0)
  std::string location{};  // redirect: absolute URL (302)
  // drop_after: bytes of body sent before the connection is closed;
  // lie_length: bytes added to the Content-Length claimed (negative: fewer) while the whole
  // body is sent and the connection closed.
  int64_t bytes = 0;
  // replace_body: served instead of the file, with the headers a real file gets (its own
  // Content-Length and sha256 ETag), so only a check of the content (validate) can refuse it.
  std::string body{};
  int stall_ms = 0;  // stall: send the headers, then nothing for this long, then close
};

struct SeenRequest {
  std::string method, target, host, authorization, range;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string sni;  // the TLS server name the client sent (none for an IP address)
};

// Serves, on https://127.0.0.1:PORT from a thread per connection:
//   GET|HEAD /{repo}/resolve/{revision}/{file}  -> root/{repo}@{revision}/{file} when that
//        folder exists, else root/{repo}/{file}; {repo} is org/name or name. 200 with
//        Content-Length, ETag "<sha256>", X-Repo-Commit; Range bytes=N- or N-M -> 206, past the
//        end -> 416. Missing: 404 with X-Error-Code (RepoNotFound, EntryNotFound).
//   GET /api/models/{repo}[/revision/{rev}] -> {"id", "sha", "siblings": [{"rfilename"}]}.
// X-Repo-Commit and "sha" are a fixed 40-hex digest of repo@revision (or the revision itself
// when it is 40 hex digits). A repo folder holding a file `.token` is gated as HF's gated repos
// are: 401 without an Authorization header, 403 unless it is "Bearer <the file's text>".
// Names starting with '.' are never served or listed.
class TestHub {
 public:
  TestHub(std::filesystem::path root, const TestCerts& certs);
  ~TestHub();
  TestHub(const TestHub&) = delete;
  TestHub& operator=(const TestHub&) = delete;

  uint16_t port() const;
  std::string url() const;             // https://127.0.0.1:PORT
  std::string other_host_url() const;  // https://localhost:PORT (another host by name)
  // Faults are consumed in the order pushed, each by the first request whose target starts
  // with path_prefix.
  void push_fault(std::string path_prefix, Fault f);
  size_t pending_faults() const;  // pushed and not yet consumed
  std::vector<SeenRequest> requests() const;
  void clear_requests();
  size_t connections() const;  // TCP connections accepted so far, TLS handshake or not

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// A plain-HTTP CONNECT proxy on 127.0.0.1 that tunnels to whatever target it is asked for and
// records each target ("host:port") and the Proxy-Authorization it came with.
class ConnectProxy {
 public:
  ConnectProxy();
  ~ConnectProxy();
  ConnectProxy(const ConnectProxy&) = delete;
  ConnectProxy& operator=(const ConnectProxy&) = delete;

  uint16_t port() const;
  std::vector<std::string> connects() const;
  std::vector<std::string> proxy_authorizations() const;  // "" where none was sent

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace bitnet_test

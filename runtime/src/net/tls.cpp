#include "tls.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstdlib>

namespace bitnet::net {
namespace {

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

Result<> trust(SSL_CTX* ctx, const std::filesystem::path& pem, const std::string& origin) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(pem, ec))
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      "the CA bundle " + pem.string() + " (" + origin +
                          ") is not a readable file; point it at a PEM file of CA certificates");
  if (SSL_CTX_load_verify_locations(ctx, pem.c_str(), nullptr) != 1)
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      "the CA bundle " + pem.string() + " (" + origin +
                          ") holds no usable PEM certificate: " + openssl_error());
  return {};
}

}  // namespace

Result<> configure_client_context(SSL_CTX* ctx, const std::filesystem::path& ca_bundle) {
  if (SSL_CTX_set_default_verify_paths(ctx) != 1) ERR_clear_error();
  if (!ca_bundle.empty())
    if (auto r = trust(ctx, ca_bundle, "the source's ca_bundle"); !r) return r;
  if (const char* env = std::getenv("BITNET_CA_BUNDLE"); env && *env)
    if (auto r = trust(ctx, env, "BITNET_CA_BUNDLE"); !r) return r;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  return {};
}

Result<> configure_connection(SSL* ssl, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const bool ip = is_ip_literal(host);
  const bool ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1
                     : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1 &&
                           SSL_set_tlsext_host_name(ssl, host.c_str()) == 1;
  if (!ok)
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      "cannot set up TLS for host " + host + ": " + openssl_error());
  return {};
}

std::string handshake_failure(SSL* ssl, const std::string& host, const std::string& detail) {
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK)
    return "the TLS certificate of " + host +
           " was not accepted: " + X509_verify_cert_error_string(verify) +
           "; if the server uses a private CA, give its PEM file as the source's ca_bundle or "
           "in BITNET_CA_BUNDLE";
  return "TLS handshake with " + host + " failed: " + detail;
}

}  // namespace bitnet::net

// TLS client settings in plain OpenSSL terms, kept apart from Asio so that they are cheap to
// compile: which CAs are trusted, and which name the peer's certificate must carry.
#pragma once

#include <bitnet/runtime/error.hpp>

#include <openssl/types.h>

#include <filesystem>
#include <string>

namespace bitnet::net {

// Trust the system store (OpenSSL's default paths, which SSL_CERT_FILE / SSL_CERT_DIR
// override), then `ca_bundle` and BITNET_CA_BUNDLE when given; verify the peer; TLS 1.2+.
Result<> configure_client_context(SSL_CTX* ctx, const std::filesystem::path& ca_bundle);

// SNI (for names, not IP literals) and the host name or IP the certificate must match.
Result<> configure_connection(SSL* ssl, const std::string& host);

// Why the handshake failed, in words a user can act on.
std::string handshake_failure(SSL* ssl, const std::string& host, const std::string& detail);

}  // namespace bitnet::net

// The test CA and server certificate, made with OpenSSL's API so no openssl binary is needed.
#include "test_hub.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace bitnet_test {
namespace {

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter>;
using Cert = std::unique_ptr<X509, Deleter>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("make_test_certs: OpenSSL failed to ") + what);
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, "make a certificate extension");
  const int added = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  check(added == 1, "add a certificate extension");
}

// issuer == nullptr makes a self-signed certificate.
Cert make_cert(EVP_PKEY* key, const char* common_name, X509* issuer, EVP_PKEY* issuer_key,
               const std::string& subject_alt_name = "") {
  Cert cert(X509_new());
  check(cert != nullptr, "allocate a certificate");
  X509* x = cert.get();
  check(X509_set_version(x, 2) == 1, "set the certificate version");
  unsigned char serial[8];
  check(RAND_bytes(serial, sizeof serial) == 1, "draw a serial number");
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  check(bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)), "set the serial number");
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 7L * 24 * 3600);
  check(X509_set_pubkey(x, key) == 1, "set the public key");
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("bitnet-runtime tests"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* signer = issuer ? issuer : x;
  check(X509_set_issuer_name(x, X509_get_subject_name(signer)) == 1, "set the issuer");
  add_ext(x, signer, NID_subject_key_identifier, "hash");
  if (!issuer) {
    add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(x, signer, NID_authority_key_identifier, "keyid:always");
    add_ext(x, signer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x, signer, NID_key_usage, "critical,digitalSignature");
    add_ext(x, signer, NID_ext_key_usage, "serverAuth");
    add_ext(x, signer, NID_subject_alt_name, subject_alt_name.c_str());
  }
  check(X509_sign(x, issuer ? issuer_key : key, EVP_sha256()) > 0, "sign a certificate");
  return cert;
}

Key make_key() {
  Key key(EVP_EC_gen("P-256"));
  check(key != nullptr, "generate an EC key");
  return key;
}

void write_cert(const std::filesystem::path& path, X509* cert) {
  std::unique_ptr<BIO, Deleter> bio(BIO_new_file(path.c_str(), "w"));
  check(bio && PEM_write_bio_X509(bio.get(), cert) == 1, ("write " + path.string()).c_str());
}

void write_key(const std::filesystem::path& path, EVP_PKEY* key) {
  std::unique_ptr<BIO, Deleter> bio(BIO_new_file(path.c_str(), "w"));
  check(bio && PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr),
        ("write " + path.string()).c_str());
}

}  // namespace

TestCerts make_test_certs(const std::filesystem::path& dir, const std::string& subject_alt_name) {
  std::filesystem::create_directories(dir);
  TestCerts out{dir / "ca.pem", dir / "server.pem", dir / "server-key.pem", dir / "other-ca.pem"};
  Key ca_key = make_key();
  Cert ca = make_cert(ca_key.get(), "bitnet test CA", nullptr, nullptr);
  Key server_key = make_key();
  Cert server =
      make_cert(server_key.get(), "bitnet test hub", ca.get(), ca_key.get(), subject_alt_name);
  Key other_key = make_key();
  Cert other = make_cert(other_key.get(), "bitnet unrelated test CA", nullptr, nullptr);
  write_cert(out.ca_pem, ca.get());
  write_cert(out.cert_pem, server.get());
  write_key(out.key_pem, server_key.get());
  write_cert(out.other_ca_pem, other.get());
  return out;
}

}  // namespace bitnet_test

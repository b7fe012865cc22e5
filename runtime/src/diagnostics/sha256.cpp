#include <bitnet/runtime/diagnostics/sha256.hpp>

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

namespace bitnet::diagnostics {

Result<std::string> sha256_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error(BITNET_STATUS_NOT_FOUND,
                      "cannot read " + path.string() + ": " + std::strerror(errno));
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                    &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return make_error(BITNET_STATUS_INTERNAL, "OpenSSL could not start a SHA-256 digest");
  std::vector<char> buf(4u << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (!in.eof())
    return make_error(BITNET_STATUS_IO,
                      "reading " + path.string() + " failed: " + std::strerror(errno));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &n);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < n; ++i)
    hex.append({kDigits[digest[i] >> 4], kDigits[digest[i] & 15]});
  return hex;
}

}  // namespace bitnet::diagnostics

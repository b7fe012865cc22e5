#include <bitnet/runtime/atomic_file.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace bitnet {

Result<> write_file_atomically(const std::filesystem::path& path,
                               std::span<const std::byte> bytes) {
  std::filesystem::path tmp = path;
  tmp += ".partial-" + std::to_string(::getpid());
  auto fail = [&](const std::string& what) {
    const std::string reason = std::strerror(errno);
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    return make_error(BITNET_STATUS_IO, path.string() + ": " + what + ": " + reason);
  };
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return fail("cannot create " + tmp.string());
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() &&
                       std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  if (std::fclose(f) != 0 || !written) return fail("cannot write");
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return fail("cannot rename into place");
  return {};
}

}  // namespace bitnet

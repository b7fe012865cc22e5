#include "fetched_copy.hpp"

#include <unistd.h>

namespace bitnet::cli {

namespace fs = std::filesystem;

Result<fs::path> place_into(const fs::path& file, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return make_error(BITNET_STATUS_IO, "cannot create " + dir.string() + ": " + ec.message());
  const fs::path dest = dir / file.filename();
  // --into the folder the file is in: a rename onto the same file would leave the link behind.
  if (fs::equivalent(file, dest, ec)) return dest;
  const fs::path temp = dest.string() + ".partial-" + std::to_string(::getpid());
  fs::remove(temp, ec);
  fs::create_hard_link(file, temp, ec);
  if (ec) {
    ec.clear();
    fs::copy_file(file, temp, fs::copy_options::overwrite_existing, ec);
  }
  if (!ec) fs::rename(temp, dest, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    return make_error(BITNET_STATUS_IO, "cannot write " + dest.string() + ": " + ec.message() +
                                            "; check the folder's permissions and free space");
  }
  return dest;
}

}  // namespace bitnet::cli

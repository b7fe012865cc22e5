#include "partial_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace bitnet::net {

Result<PartialFile> PartialFile::open(const std::filesystem::path& dest) {
  std::filesystem::path path = dest;
  path += ".partial";
  std::error_code ec;
  if (dest.has_parent_path()) std::filesystem::create_directories(dest.parent_path(), ec);
  if (ec)
    return make_error(BITNET_STATUS_IO, "cannot create the folder " + dest.parent_path().string() +
                                            ": " + ec.message() +
                                            "; check its permissions or choose another place");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error(BITNET_STATUS_IO, "cannot write " + path.string() + ": " +
                                            std::strerror(errno) +
                                            "; check the folder's permissions and free space");
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return make_error(BITNET_STATUS_IO, "another process is downloading " + dest.string() +
                                            " (it holds " + path.string() +
                                            "); wait for it to finish");
  }
  return PartialFile(std::move(path), fd);
}

PartialFile::PartialFile(PartialFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

PartialFile::~PartialFile() {
  if (fd_ < 0) return;
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && st.st_size == 0) ::unlink(path_.c_str());
  ::close(fd_);
}

Error PartialFile::io_error(const std::string& what) const {
  return make_error(BITNET_STATUS_IO, "cannot " + what + " " + path_.string() + ": " +
                                          std::strerror(errno) +
                                          "; check the disk's free space and permissions");
}

Result<int64_t> PartialFile::size() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return io_error("read the size of");
  return static_cast<int64_t>(st.st_size);
}

Result<> PartialFile::truncate() {
  if (::ftruncate(fd_, 0) != 0) return io_error("truncate");
  return {};
}

Result<> PartialFile::append(const char* data, size_t size) {
  if (::lseek(fd_, 0, SEEK_END) < 0) return io_error("seek in");
  while (size > 0) {
    const ssize_t n = ::write(fd_, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error("write");
    data += n;
    size -= static_cast<size_t>(n);
  }
  return {};
}

void PartialFile::remove() {
  ::unlink(path_.c_str());
  ::close(std::exchange(fd_, -1));
}

Result<> PartialFile::commit(const std::filesystem::path& dest) {
  if (::fsync(fd_) != 0) return io_error("sync");
  if (::rename(path_.c_str(), dest.c_str()) != 0) return io_error("move into place");
  ::close(std::exchange(fd_, -1));
  const std::filesystem::path folder = dest.has_parent_path() ? dest.parent_path() : ".";
  if (const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return {};
}

Result<int64_t> free_bytes(const std::filesystem::path& folder) {
  struct statvfs st {};
  if (::statvfs(folder.c_str(), &st) != 0)
    return make_error(BITNET_STATUS_IO, "cannot read the free space of " + folder.string() + ": " +
                                            std::strerror(errno));
  return static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
}

}  // namespace bitnet::net

// The `<dest>.partial` file a download writes into: locked against a second download of the
// same file, truncated or appended to, synced, and renamed into place only when complete.
#pragma once

#include <bitnet/runtime/error.hpp>

#include <cstdint>
#include <filesystem>

namespace bitnet::net {

class PartialFile {
 public:
  // Creates the folder and opens (or creates) dest + ".partial" under an exclusive lock.
  static Result<PartialFile> open(const std::filesystem::path& dest);
  PartialFile(PartialFile&& other) noexcept;
  PartialFile& operator=(PartialFile&&) = delete;
  ~PartialFile();  // closes; an empty partial file is removed

  const std::filesystem::path& path() const { return path_; }
  Result<int64_t> size() const;
  Result<> truncate();
  Result<> append(const char* data, size_t size);
  void remove();  // deletes the partial file (it was wrong); the object is then closed
  // fsync, rename over dest, fsync the folder; the object is then closed.
  Result<> commit(const std::filesystem::path& dest);

 private:
  PartialFile(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  Error io_error(const std::string& what) const;
  std::filesystem::path path_;
  int fd_ = -1;
};

// Bytes the current user may still write in `folder`.
Result<int64_t> free_bytes(const std::filesystem::path& folder);

}  // namespace bitnet::net

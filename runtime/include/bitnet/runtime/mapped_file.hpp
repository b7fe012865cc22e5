// A read-only memory map of a whole file. Mapping reads nothing: pages come in when touched, so
// opening a multi-gigabyte model is instant.
#pragma once

#include <bitnet/runtime/error.hpp>

#include <cstddef>
#include <filesystem>
#include <span>

namespace bitnet {

class MappedFile {
 public:
  static Result<MappedFile> open(const std::filesystem::path& path);
  MappedFile(MappedFile&& o) noexcept { *this = std::move(o); }
  MappedFile& operator=(MappedFile&& o) noexcept;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::filesystem::path& path() const { return path_; }
  // Lets the kernel take back the pages of `range` (a part of bytes()): touched again, they are
  // read from the file again. Once a tensor is copied into a backend buffer its mapped pages
  // would otherwise stay resident, and a model would sit in memory twice.
  void release(std::span<const std::byte> range) const;

 private:
  MappedFile() = default;
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
  std::filesystem::path path_;
};

}  // namespace bitnet

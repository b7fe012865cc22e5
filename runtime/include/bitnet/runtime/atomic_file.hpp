// Writing a whole file so that its name only ever holds a complete file: the bytes go to a
// `.partial-<pid>` file beside it, are synced, then renamed over it. A failure removes the
// partial file and leaves whatever was there before.
#pragma once

#include <bitnet/runtime/error.hpp>

#include <cstddef>
#include <filesystem>
#include <span>
#include <string_view>

namespace bitnet {

Result<> write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes);

inline Result<> write_file_atomically(const std::filesystem::path& path, std::string_view text) {
  return write_file_atomically(path, std::as_bytes(std::span(text.data(), text.size())));
}

}  // namespace bitnet

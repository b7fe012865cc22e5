// SHA-256 of a file, for receipts: names a model by its content, whatever its path.
#pragma once

#include <bitnet/runtime/error.hpp>

#include <filesystem>
#include <string>

namespace bitnet::diagnostics {

// 64 lowercase hex digits.
Result<std::string> sha256_file(const std::filesystem::path& path);

}  // namespace bitnet::diagnostics

// Putting a fetched file where the user asked (--into DIR): the name holds either nothing or
// the whole file, never a part of it.
#pragma once

#include <bitnet/runtime/error.hpp>

#include <filesystem>

namespace bitnet::cli {

// DIR/<file's name>: a hard link when DIR is on the cache's file system (no second copy of a
// model), else a copy written beside it and renamed into place.
Result<std::filesystem::path> place_into(const std::filesystem::path& file,
                                         const std::filesystem::path& dir);

}  // namespace bitnet::cli

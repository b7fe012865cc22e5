// Private to the converter: reads a small JSON file (config.json, an index) whole, with a size
// limit so that a wrong path to a huge file fails at once instead of filling memory.
#pragma once

#include <bitnet/runtime/error.hpp>

#include <boost/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace bitnet::convert {

inline Result<boost::json::object> read_json_object(const std::filesystem::path& path,
                                                    uintmax_t limit = 64u << 20) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec)
    return make_error(BITNET_STATUS_NOT_FOUND, path.string() + ": cannot read: " + ec.message());
  if (size > limit)
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      path.string() + ": " + std::to_string(size) + " bytes is more than the " +
                          std::to_string(limit) + " a JSON file of a checkpoint may have");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in)
    return make_error(BITNET_STATUS_IO,
                      path.string() + ": cannot read: " + std::string(std::strerror(errno)));
  boost::system::error_code jec;
  boost::json::value v = boost::json::parse(text.str(), jec);
  if (jec)
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      path.string() + ": not valid JSON (" + jec.message() + ")");
  if (!v.is_object())
    return make_error(BITNET_STATUS_INVALID_ARGUMENT, path.string() + ": not a JSON object");
  return std::move(v.as_object());
}

}  // namespace bitnet::convert

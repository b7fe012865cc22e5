#include "settings.hpp"

#include <bitnet/sdk/status.hpp>

#include <boost/json.hpp>

#include <cctype>
#include <cstdlib>
#include <fstream>

namespace bitnet_sources {

namespace json = boost::json;
using bitnet::sdk::Error;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

json::object parse_settings(const char* config_json, const std::string& what) {
  boost::system::error_code ec;
  json::value v = json::parse(config_json ? config_json : "{}", ec);
  if (ec || !v.is_object())
    throw Error(BITNET_STATUS_INVALID_ARGUMENT, what + " settings are not a JSON object");
  return std::move(v.as_object());
}

std::string string_setting(const json::object& o, const char* key, const std::string& what) {
  const json::value* v = o.if_contains(key);
  if (!v) return {};
  if (!v->is_string())
    throw Error(BITNET_STATUS_INVALID_ARGUMENT,
                what + ": \"" + key + "\" must be a string (see sdk/README.md, source settings)");
  return std::string(v->as_string());
}

bool bool_setting(const json::object& o, const char* key, bool fallback, const std::string& what) {
  const json::value* v = o.if_contains(key);
  if (!v) return fallback;
  if (!v->is_bool())
    throw Error(BITNET_STATUS_INVALID_ARGUMENT, what + ": \"" + key + "\" must be true or false");
  return v->as_bool();
}

std::string read_secret_file(const std::filesystem::path& file, const std::string& what) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line))
    throw Error(BITNET_STATUS_PERMISSION_DENIED, what + ": cannot read the secret file " +
                                                     file.string() +
                                                     "; check that it exists and is readable");
  const auto first = line.find_first_not_of(" \t\r\n");
  const auto last = line.find_last_not_of(" \t\r\n");
  return first == std::string::npos ? std::string() : line.substr(first, last - first + 1);
}

std::string escape_path(const std::string& s, bool escape_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    const bool plain = std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
                       (c == '/' && !escape_slash);
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace bitnet_sources

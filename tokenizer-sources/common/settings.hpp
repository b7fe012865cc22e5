// Reading a source's settings: its JSON section of the user's config, environment variables and
// secret files. Every problem is an Error naming the source and the key.
#pragma once

#include <boost/json/object.hpp>

#include <filesystem>
#include <string>

namespace bitnet_sources {

std::string env(const char* name);

// The object a source was created with ("{}" for NULL); `what` names it in errors.
boost::json::object parse_settings(const char* config_json, const std::string& what);
std::string string_setting(const boost::json::object& o, const char* key, const std::string& what);
bool bool_setting(const boost::json::object& o, const char* key, bool fallback,
                  const std::string& what);

// A token or key from a file: its first line without surrounding blanks. Throws Error
// (PERMISSION_DENIED) naming the file, never its contents, when it cannot be read.
std::string read_secret_file(const std::filesystem::path& file, const std::string& what);

// '%'-escapes what may not stand in a URL path; '/' stays unless escape_slash.
std::string escape_path(const std::string& s, bool escape_slash = false);

}  // namespace bitnet_sources

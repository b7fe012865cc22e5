// The one logger. Level from BITNET_LOG (trace, debug, info, warn, error, off; default info),
// lines to stderr as "bitnet: <level> <component>: <message>".
#pragma once

#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

namespace bitnet::log {

enum class Level { trace = 0, debug = 1, info = 2, warn = 3, error = 4, off = 5 };

std::optional<Level> parse_level(std::string_view text);
std::string_view level_name(Level level);
Level level();
void set_level(Level level);
inline bool enabled(Level l) {
  return l != Level::off && l >= level();
}
void write(Level level, std::string_view component, std::string_view message);

template <class... Args>
void print(Level l, std::string_view component, Args&&... args) {
  if (!enabled(l)) return;
  std::ostringstream out;
  (out << ... << std::forward<Args>(args));
  write(l, component, out.str());
}
template <class... Args>
void debug(std::string_view component, Args&&... args) {
  print(Level::debug, component, std::forward<Args>(args)...);
}
template <class... Args>
void info(std::string_view component, Args&&... args) {
  print(Level::info, component, std::forward<Args>(args)...);
}
template <class... Args>
void warn(std::string_view component, Args&&... args) {
  print(Level::warn, component, std::forward<Args>(args)...);
}
template <class... Args>
void error(std::string_view component, Args&&... args) {
  print(Level::error, component, std::forward<Args>(args)...);
}

}  // namespace bitnet::log

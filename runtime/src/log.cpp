#include <bitnet/runtime/log.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace bitnet::log {
namespace {

constexpr std::string_view kNames[] = {"trace", "debug", "info", "warn", "error", "off"};

Level level_from_env() {
  const char* env = std::getenv("BITNET_LOG");
  if (!env || !*env) return Level::info;
  if (auto l = parse_level(env)) return *l;
  std::fprintf(stderr,
               "bitnet: warn log: BITNET_LOG=%s is not a level; use one of trace, debug, info, "
               "warn, error, off (using info)\n",
               env);
  return Level::info;
}

std::atomic<Level>& current() {
  static std::atomic<Level> l{level_from_env()};
  return l;
}

}  // namespace

std::optional<Level> parse_level(std::string_view text) {
  for (size_t i = 0; i < std::size(kNames); ++i)
    if (text == kNames[i]) return static_cast<Level>(i);
  if (text == "warning") return Level::warn;
  return std::nullopt;
}

std::string_view level_name(Level l) {
  return kNames[static_cast<size_t>(l)];
}
Level level() {
  return current().load(std::memory_order_relaxed);
}
void set_level(Level l) {
  current().store(l, std::memory_order_relaxed);
}

void write(Level l, std::string_view component, std::string_view message) {
  static std::mutex mutex;
  std::string line = "bitnet: ";
  line.append(level_name(l)).append(" ").append(component).append(": ").append(message);
  line.push_back('\n');
  std::lock_guard lock(mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace bitnet::log

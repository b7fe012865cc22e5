#include <bitnet/runtime/log.hpp>
#include <bitnet/runtime/plugins/host_services.hpp>
#include <bitnet/runtime/thread_pool.hpp>

#include <deque>
#include <mutex>

namespace bitnet::plugins {
namespace {

struct PluginContext {
  std::string component;  // "plugin <name>"
  bitnet_host_services table;
};

log::Level to_level(int32_t level) {
  if (level <= BITNET_LOG_TRACE) return log::Level::trace;
  if (level >= BITNET_LOG_ERROR) return log::Level::error;
  return static_cast<log::Level>(level);
}

int32_t log_enabled(void*, int32_t level) {
  return log::enabled(to_level(level)) ? 1 : 0;
}

void log_line(void* ctx, int32_t level, const char* message) {
  const auto* c = static_cast<const PluginContext*>(ctx);
  if (log::enabled(to_level(level)))
    log::write(to_level(level), c->component, message ? message : "");
}

void parallel_for(void*, size_t begin, size_t end, size_t grain, bitnet_range_fn fn, void* user) {
  thread_pool::parallel_for(begin, end, grain, [&](size_t b, size_t e) { fn(user, b, e); });
}

int32_t max_threads(void*) {
  return thread_pool::max_threads();
}

}  // namespace

const bitnet_host_services* host_services_for(const std::string& name) {
  // Never freed: plugins may keep the pointer for the life of the process.
  static auto* contexts = new std::deque<PluginContext>();
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  PluginContext& c = contexts->emplace_back();
  c.component = "plugin " + name;
  c.table = bitnet_host_services{sizeof(bitnet_host_services),
                                 {BITNET_ABI_MAJOR, BITNET_ABI_MINOR},
                                 &c,
                                 &log_enabled,
                                 &log_line,
                                 &parallel_for,
                                 &max_threads};
  return &c.table;
}

}  // namespace bitnet::plugins

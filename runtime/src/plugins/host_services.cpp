#include <bitnet/runtime/log.hpp>
#include <bitnet/runtime/net/download.hpp>
#include <bitnet/runtime/plugins/host_services.hpp>
#include <bitnet/runtime/thread_pool.hpp>

#include <bitnet/http.h>

#include <cstddef>
#include <cstdio>
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

void copy_text(char* out, size_t size, const std::string& text) {
  std::snprintf(out, size, "%s", text.c_str());
}

net::DownloadRequest to_request(const bitnet_http_download_args& a) {
  net::DownloadRequest r;
  r.url = a.url ? a.url : "";
  for (size_t i = 0; a.headers && i < a.n_headers; ++i)
    r.headers.emplace_back(a.headers[i].name ? a.headers[i].name : "",
                           a.headers[i].value ? a.headers[i].value : "");
  if (a.ca_bundle) r.ca_bundle = a.ca_bundle;
  if (a.dest_path) r.dest = a.dest_path;
  if (a.expected_sha256) r.expected_sha256 = a.expected_sha256;
  r.max_bytes = a.max_bytes;
  r.progress = (a.flags & BITNET_HTTP_PROGRESS) != 0;
  r.no_resume = (a.flags & BITNET_HTTP_NO_RESUME) != 0;
  r.force = (a.flags & BITNET_HTTP_FORCE) != 0;
  if (a.validate)
    r.validate = [fn = a.validate, user = a.validate_user](
                     const std::filesystem::path& path) -> std::optional<std::string> {
      char why[512] = {};
      if (fn(user, path.c_str(), why, sizeof why) == 0) return std::nullopt;
      return why[0] ? std::string(why) : std::string("the source's check refused the file");
    };
  return r;
}

// Plugins call this through the table; nothing may throw across the ABI.
int32_t http_download(void* ctx, bitnet_http_download_args* args) {
  if (!args || args->struct_size < sizeof(bitnet_http_download_args))
    return BITNET_STATUS_INVALID_ARGUMENT;
  args->http_status = 0;
  args->bytes = 0;
  args->sha256[0] = '\0';
  args->error[0] = '\0';
  const auto* c = static_cast<const PluginContext*>(ctx);
  if (!args->url || !args->dest_path) {
    copy_text(args->error, sizeof args->error,
              c->component + ": http_download needs url and dest_path");
    return BITNET_STATUS_INVALID_ARGUMENT;
  }
  try {
    auto done = net::download(to_request(*args));
    if (!done) {
      copy_text(args->error, sizeof args->error, done.error().message);
      return done.error().code;
    }
    args->http_status = done->http_status;
    args->bytes = done->bytes;
    copy_text(args->sha256, sizeof args->sha256, done->sha256);
    return BITNET_STATUS_OK;
  } catch (const std::exception& e) {
    copy_text(args->error, sizeof args->error, std::string("download failed: ") + e.what());
    return BITNET_STATUS_INTERNAL;
  }
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
                                 &max_threads,
                                 &http_download};
  return &c.table;
}

}  // namespace bitnet::plugins

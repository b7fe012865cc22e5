#include "plugin_loader.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>
#include <thread>

namespace neon_test {
namespace {

int32_t log_enabled(void*, int32_t level) {
  return level >= BITNET_LOG_WARN;
}
void log(void*, int32_t, const char* message) {
  std::fprintf(stderr, "plugin: %s\n", message);
}
// NEON_THREADS (1 to 8, default 1): threads per parallel_for, each call spawning its own, as
// qemu makes thread creation dear. The op tests set 3, so the plugins' parallel paths run.
size_t thread_count() {
  static const size_t n = [] {
    const char* v = std::getenv("NEON_THREADS");
    return std::clamp<size_t>(v ? std::strtoul(v, nullptr, 10) : 1, 1, 8);
  }();
  return n;
}

// Chunks of at least `grain`, the first on the caller's thread; an empty range and a grain of 0
// taken as the runtime's pool takes them (nothing to run; a grain of 1).
void parallel_for(void*, size_t begin, size_t end, size_t grain, bitnet_range_fn fn, void* user) {
  if (begin >= end) return;
  const size_t chunks =
      std::min(thread_count(), std::max<size_t>(1, (end - begin) / std::max<size_t>(grain, 1)));
  const size_t step = (end - begin + chunks - 1) / chunks;
  std::vector<std::thread> workers;
  for (size_t b = begin + step; b < end; b += step)
    workers.emplace_back([=] { fn(user, b, std::min(end, b + step)); });
  fn(user, begin, std::min(end, begin + step));
  for (std::thread& t : workers)
    t.join();
}

int32_t max_threads(void*) {
  return static_cast<int32_t>(thread_count());
}

const bitnet_host_services kServices{sizeof(bitnet_host_services),
                                     {BITNET_ABI_MAJOR, BITNET_ABI_MINOR},
                                     nullptr,
                                     &log_enabled,
                                     &log,
                                     &parallel_for,
                                     &max_threads,
                                     nullptr};

template <class F>
F symbol(void* lib, const char* name, const std::string& path) {
  void* s = dlsym(lib, name);
  if (!s) throw std::runtime_error(path + " does not export " + name);
  return reinterpret_cast<F>(s);
}

Plugin load(const std::string& name) {
  const std::string path = std::string(NEON_PLUGIN_DIR) + "/bitnet-" + name + ".so";
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) throw std::runtime_error("cannot load " + path + ": " + dlerror());
  const bitnet_abi_version offered{BITNET_ABI_MAJOR, BITNET_ABI_MINOR};
  bitnet_negotiate_args n{sizeof n, &offered, 1, {0, 0}, nullptr};
  symbol<bitnet_plugin_negotiate_fn>(lib, BITNET_PLUGIN_NEGOTIATE_SYMBOL, path)(&n);
  if (n.chosen.major != BITNET_ABI_MAJOR) throw std::runtime_error(path + ": no common ABI");
  bitnet_score_args s{sizeof s, 0, {}};
  symbol<bitnet_plugin_score_fn>(lib, BITNET_PLUGIN_SCORE_SYMBOL, path)(&s);
  Plugin p{name, s.score, s.reason, nullptr};
  if (p.score <= 0) return p;
  bitnet_init_args i{sizeof i, n.chosen, &kServices, nullptr, {}};
  if (symbol<bitnet_plugin_init_fn>(lib, BITNET_PLUGIN_INIT_SYMBOL, path)(&i) != BITNET_STATUS_OK)
    throw std::runtime_error(path + ": init failed: " + i.error);
  p.api = static_cast<const bitnet_backend_api*>(i.api);
  return p;
}

}  // namespace

const Plugin& plugin(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Plugin>> loaded;
  auto& p = loaded[name];
  if (!p) p = std::make_unique<Plugin>(load(name));
  return *p;
}

Device::Device(const Plugin& p) : plugin_(p) {
  if (!p.api) throw std::runtime_error(p.name + " cannot run here: " + p.reason);
  bitnet_backend_create_args a{sizeof a, 0, nullptr, 0};
  check(p.api->backend_create(&a), "backend_create");
  backend_ = a.backend;
}

Device::~Device() {
  for (bitnet_buffer* b : buffers_)
    plugin_.api->buffer_free(b);
  plugin_.api->backend_destroy(backend_);
}

void Device::check(bitnet_status* st, const char* what) const {
  if (!st) return;
  const std::string message = plugin_.api->status_message(st);
  plugin_.api->status_destroy(st);
  throw std::runtime_error(plugin_.name + " " + what + ": " + message);
}

std::string Device::name() const {
  bitnet_backend_props props{};
  props.struct_size = sizeof props;
  check(plugin_.api->get_props(backend_, &props), "get_props");
  return props.device_name;
}

bool Device::supports(const bitnet_tensor& node) const {
  return plugin_.api->supports_op(backend_, &node) != 0;
}

bitnet_buffer* Device::alloc(size_t bytes) {
  bitnet_buffer_alloc_args a{sizeof a, backend_, bytes, nullptr};
  check(plugin_.api->buffer_alloc(&a), "buffer_alloc");
  buffers_.push_back(a.buffer);
  return a.buffer;
}

void Device::upload(bitnet_buffer* b, size_t offset, const void* data, size_t bytes) {
  const bitnet_buffer_upload_args a{sizeof a, b, offset, data, bytes};
  check(plugin_.api->buffer_upload(&a), "buffer_upload");
}

void Device::download(bitnet_buffer* b, size_t offset, void* data, size_t bytes) {
  const bitnet_buffer_download_args a{sizeof a, b, offset, data, bytes};
  check(plugin_.api->buffer_download(&a), "buffer_download");
}

void Device::compute(const std::vector<const bitnet_tensor*>& nodes) {
  const bitnet_graph_compute_args a{sizeof a, backend_, nodes.data(), nodes.size(), 0};
  check(plugin_.api->graph_compute(&a), "graph_compute");
}

}  // namespace neon_test

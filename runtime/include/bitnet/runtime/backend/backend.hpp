// RAII handles over a backend plugin's table: a device and the buffers allocated on it.
#pragma once

#include <bitnet/backend.h>
#include <bitnet/runtime/error.hpp>
#include <bitnet/runtime/plugins/plugin_host.hpp>

#include <cstdint>
#include <span>
#include <string>

namespace bitnet {

struct BackendProps {
  std::string device_name;
  uint64_t memory_total = 0;
  uint64_t memory_free = 0;
  size_t alignment = 0;
  bool host_memory = false;
};

// Must not outlive the Backend it came from.
class BackendBuffer {
 public:
  BackendBuffer() = default;
  BackendBuffer(const bitnet_backend_api* api, bitnet_buffer* buffer, size_t size)
      : api_(api), buffer_(buffer), size_(size) {}
  BackendBuffer(BackendBuffer&& o) noexcept { *this = std::move(o); }
  BackendBuffer& operator=(BackendBuffer&& o) noexcept;
  ~BackendBuffer();

  size_t size() const { return size_; }
  bitnet_buffer* raw() const { return buffer_; }
  Result<> upload(size_t offset, const void* data, size_t n);
  Result<> download(size_t offset, void* data, size_t n) const;
  // The bytes a download would copy, in place (buffer_view): valid until the next upload,
  // compute or free on this backend; null where the backend has them outside host memory or
  // predates ABI 1.2.
  Result<const void*> view(size_t offset, size_t n) const;

 private:
  const bitnet_backend_api* api_ = nullptr;
  bitnet_buffer* buffer_ = nullptr;
  size_t size_ = 0;
};

class Backend {
 public:
  // flags: bitnet_backend_flags (BITNET_BACKEND_DETERMINISTIC).
  static Result<Backend> create(const plugins::PluginRecord& plugin, int32_t device = 0,
                                uint32_t flags = 0);
  Backend(Backend&& o) noexcept { *this = std::move(o); }
  Backend& operator=(Backend&& o) noexcept;
  ~Backend();

  const std::string& plugin_name() const { return name_; }
  const std::string& plugin_version() const { return version_; }
  Result<BackendProps> props() const;
  bool supports(const bitnet_tensor& node) const;
  Result<BackendBuffer> alloc(size_t size);
  // `generation`: the graph's graph::Graph::generation(), or 0 for no promise (backend.h).
  Result<> compute(std::span<const bitnet_tensor* const> nodes, uint64_t generation = 0);
  Result<> synchronize();
  // Reads any buffer of this backend, e.g. the one a graph node wrote (tracing, diagnostics).
  Result<> download(bitnet_buffer* buffer, size_t offset, void* data, size_t n) const;

 private:
  Backend() = default;
  const bitnet_backend_api* api_ = nullptr;
  bitnet_backend* backend_ = nullptr;
  std::string name_;
  std::string version_;
};

}  // namespace bitnet

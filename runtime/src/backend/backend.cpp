#include <bitnet/runtime/backend/backend.hpp>
#include <bitnet/runtime/backend/status.hpp>

#include <utility>

namespace bitnet {

BackendBuffer& BackendBuffer::operator=(BackendBuffer&& o) noexcept {
  if (this != &o) {
    if (buffer_) api_->buffer_free(buffer_);
    api_ = std::exchange(o.api_, nullptr);
    buffer_ = std::exchange(o.buffer_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

BackendBuffer::~BackendBuffer() {
  if (buffer_) api_->buffer_free(buffer_);
}

Result<> BackendBuffer::upload(size_t offset, const void* data, size_t n) {
  bitnet_buffer_upload_args a{sizeof(a), buffer_, offset, data, n};
  if (bitnet_status* s = api_->buffer_upload(&a)) return take_status(*api_, s, "upload failed");
  return {};
}

Result<> BackendBuffer::download(size_t offset, void* data, size_t n) const {
  bitnet_buffer_download_args a{sizeof(a), buffer_, offset, data, n};
  if (bitnet_status* s = api_->buffer_download(&a)) return take_status(*api_, s, "download failed");
  return {};
}

Result<const void*> BackendBuffer::view(size_t offset, size_t n) const {
  if (!BITNET_HAS_ENTRY(api_, bitnet_backend_api, buffer_view)) return nullptr;
  bitnet_buffer_view_args a{sizeof(a), buffer_, offset, n, nullptr};
  if (bitnet_status* s = api_->buffer_view(&a)) return take_status(*api_, s, "view failed");
  return a.data;
}

Result<Backend> Backend::create(const plugins::PluginRecord& plugin, int32_t device,
                                uint32_t flags) {
  if (!plugin.loaded || !plugin.backend)
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      "plugin '" + plugin.name + "' is not a loaded backend");
  const int32_t count = plugin.backend->device_count();
  if (device < 0 || device >= count)
    return make_error(BITNET_STATUS_NOT_FOUND, "backend '" + plugin.name + "' has " +
                                                   std::to_string(count) + " device(s); device " +
                                                   std::to_string(device) + " does not exist");
  bitnet_backend_create_args a{sizeof(a), device, nullptr, flags};
  if (bitnet_status* s = plugin.backend->backend_create(&a))
    return take_status(*plugin.backend, s, "backend '" + plugin.name + "' failed to start");
  Backend b;
  b.api_ = plugin.backend;
  b.backend_ = a.backend;
  b.name_ = plugin.name;
  b.version_ = plugin.version;
  return b;
}

Backend& Backend::operator=(Backend&& o) noexcept {
  if (this != &o) {
    if (backend_) api_->backend_destroy(backend_);
    api_ = std::exchange(o.api_, nullptr);
    backend_ = std::exchange(o.backend_, nullptr);
    name_ = std::move(o.name_);
    version_ = std::move(o.version_);
  }
  return *this;
}

Backend::~Backend() {
  if (backend_) api_->backend_destroy(backend_);
}

Result<BackendProps> Backend::props() const {
  bitnet_backend_props p{};
  p.struct_size = sizeof(p);
  if (bitnet_status* s = api_->get_props(backend_, &p))
    return take_status(*api_, s, "backend '" + name_ + "': get_props failed");
  return BackendProps{p.device_name ? p.device_name : "", p.memory_total, p.memory_free,
                      p.alignment, p.host_memory != 0};
}

bool Backend::supports(const bitnet_tensor& node) const {
  return api_->supports_op(backend_, &node) != 0;
}

Result<BackendBuffer> Backend::alloc(size_t size) {
  bitnet_buffer_alloc_args a{sizeof(a), backend_, size, nullptr};
  if (bitnet_status* s = api_->buffer_alloc(&a))
    return take_status(
        *api_, s, "backend '" + name_ + "' could not allocate " + std::to_string(size) + " bytes");
  return BackendBuffer(api_, a.buffer, size);
}

Result<> Backend::compute(std::span<const bitnet_tensor* const> nodes, uint64_t generation) {
  bitnet_graph_compute_args a{sizeof(a), backend_, nodes.data(), nodes.size(), generation};
  if (bitnet_status* s = api_->graph_compute(&a))
    return take_status(*api_, s, "backend '" + name_ + "': graph compute failed");
  return {};
}

Result<> Backend::synchronize() {
  if (!BITNET_HAS_ENTRY(api_, bitnet_backend_api, synchronize)) return {};
  if (bitnet_status* s = api_->synchronize(backend_))
    return take_status(*api_, s, "backend '" + name_ + "': synchronize failed");
  return {};
}

Result<> Backend::download(bitnet_buffer* buffer, size_t offset, void* data, size_t n) const {
  bitnet_buffer_download_args a{sizeof(a), buffer, offset, data, n};
  if (bitnet_status* s = api_->buffer_download(&a))
    return take_status(*api_, s, "backend '" + name_ + "': download failed");
  return {};
}

}  // namespace bitnet

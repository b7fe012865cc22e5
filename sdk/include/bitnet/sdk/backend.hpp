// C++ side of a backend plugin: derive from Backend (and Buffer, unless host memory will do),
// then hand backend_api<Factory>() back from the plugin's init. The table's entries catch every
// exception, check buffer bounds, and respect the caller's struct sizes.
#pragma once

#include <bitnet/backend.h>
#include <bitnet/sdk/status.hpp>
#include <bitnet/sdk/types.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace bitnet::sdk {

class Buffer {
 public:
  explicit Buffer(size_t size) : size_(size) {}
  virtual ~Buffer() = default;
  size_t size() const { return size_; }
  virtual void upload(size_t offset, const void* data, size_t n) = 0;
  virtual void download(size_t offset, void* data, size_t n) = 0;
  // Where the host may read [offset, offset + n) without a copy (buffer_view); null where the
  // bytes are not in host memory.
  virtual const void* view(size_t /*offset*/, size_t /*n*/) { return nullptr; }

 private:
  size_t size_;
};

// A buffer in host RAM, for CPU backends. Large buffers (weights, KV caches) sit on 2 MiB
// boundaries and ask Linux for transparent huge pages: streaming a gigabyte of weights per
// token through 4 KiB pages costs a TLB miss every 64 cache lines.
class HostBuffer final : public Buffer {
 public:
  HostBuffer(size_t size, size_t alignment) : Buffer(size) {
    constexpr size_t kHuge = size_t{2} << 20;
    if (size >= kHuge) alignment = std::max(alignment, kHuge);
    const size_t rounded = (std::max<size_t>(size, 1) + alignment - 1) / alignment * alignment;
    data_ = static_cast<std::byte*>(std::aligned_alloc(alignment, rounded));
    if (!data_) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (size >= kHuge) madvise(data_, rounded, MADV_HUGEPAGE);
#endif
  }
  ~HostBuffer() override {
    std::free(data_);
  }
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;

  std::byte* data() {
    return data_;
  }
  void upload(size_t offset, const void* src, size_t n) override {
    if (n) std::memcpy(data_ + offset, src, n);
  }
  void download(size_t offset, void* dst, size_t n) override {
    if (n) std::memcpy(dst, data_ + offset, n);
  }
  const void* view(size_t offset, size_t) override {
    return data_ + offset;
  }

 private:
  std::byte* data_;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Fill the fields of a full-size props struct; the table copies what the caller can hold.
  virtual void props(bitnet_backend_props& out) = 0;
  virtual bool supports(const bitnet_tensor& node) = 0;
  virtual std::unique_ptr<Buffer> alloc(size_t size) = 0;
  virtual void compute(const bitnet_tensor* const* nodes, size_t n_nodes) = 0;
  // ABI 1.3: compute with the host's generation (bitnet_graph_compute_args; 0 when it gives
  // none), which the table calls. A backend that compares each graph with the last one it ran
  // overrides it; a distinct name, so overriding one does not hide the other.
  virtual void compute_generation(const bitnet_tensor* const* nodes, size_t n_nodes,
                                  uint64_t generation) {
    (void)generation;
    compute(nodes, n_nodes);
  }
  virtual void synchronize() {}
};

}  // namespace bitnet::sdk

struct bitnet_backend {
  std::unique_ptr<bitnet::sdk::Backend> impl;
};
struct bitnet_buffer {
  std::unique_ptr<bitnet::sdk::Buffer> impl;
};

namespace bitnet::sdk {

// Throws Error unless `t` has a known type, positive dimensions, whole blocks per row,
// contiguous rows (nb[0] is the block size) and lies inside its buffer. Backends call it on
// every tensor of a graph before touching memory: a wrong graph becomes an error, not a crash.
inline void check_tensor(const bitnet_tensor& t) {
  const char* name = t.name ? t.name : "(unnamed)";
  auto fail = [&](const std::string& what) {
    throw Error(BITNET_STATUS_INVALID_ARGUMENT, std::string("tensor ") + name + ": " + what);
  };
  const TypeTraits* traits = type_traits(t.type);
  if (!traits) fail("unknown type " + std::to_string(t.type));
  if (!t.buffer) fail("has no buffer");
  for (int i = 0; i < BITNET_MAX_DIMS; ++i)
    if (t.ne[i] < 1) fail("dimension " + std::to_string(i) + " is " + std::to_string(t.ne[i]));
  const std::optional<size_t> row = row_bytes(t.type, t.ne[0]);
  if (!row) fail("row of " + std::to_string(t.ne[0]) + " is not a whole number of blocks");
  if (t.nb[0] != traits->block_bytes) fail("rows are not contiguous");
  if (t.type == BITNET_TYPE_I2_S && t.ne[1] > 1 && t.nb[1] != *row)
    fail("an I2_S tensor must be contiguous (its scale follows the last row)");
  size_t end = t.offset;
  if (__builtin_add_overflow(end, *row, &end)) fail("size overflows");
  for (int i = 1; i < BITNET_MAX_DIMS; ++i) {
    size_t span = 0;
    if (__builtin_mul_overflow(static_cast<size_t>(t.ne[i] - 1), t.nb[i], &span) ||
        __builtin_add_overflow(end, span, &end))
      fail("size overflows");
  }
  if (t.type == BITNET_TYPE_I2_S && __builtin_add_overflow(end, kI2sTailBytes, &end))
    fail("size overflows");
  if (end > t.buffer->impl->size())
    fail("ends at byte " + std::to_string(end) + ", past its buffer of " +
         std::to_string(t.buffer->impl->size()) + " bytes");
}

// Address of a tensor's first byte, for backends whose buffers are all HostBuffers.
inline std::byte* host_data(const bitnet_tensor& t) {
  if (!t.buffer) throw Error(BITNET_STATUS_INVALID_ARGUMENT, "tensor has no buffer");
  return static_cast<HostBuffer*>(t.buffer->impl.get())->data() + t.offset;
}

namespace detail {

inline void check_range(const bitnet_buffer* b, size_t offset, size_t n, const char* what) {
  if (!b) throw Error(BITNET_STATUS_INVALID_ARGUMENT, std::string(what) + ": buffer is NULL");
  const size_t size = b->impl->size();
  if (offset > size || n > size - offset)
    throw Error(BITNET_STATUS_INVALID_ARGUMENT, std::string(what) + " of " + std::to_string(n) +
                                                    " bytes at offset " + std::to_string(offset) +
                                                    " runs past the end of a buffer of " +
                                                    std::to_string(size) + " bytes");
}

}  // namespace detail

// Factory provides: static int device_count(); static std::unique_ptr<Backend> create(int device)
// or, to honour bitnet_backend_flags, create(int device, uint32_t flags).
template <class Factory>
const bitnet_backend_api* backend_api() {
  static const bitnet_backend_api api = [] {
    bitnet_backend_api a{};
    a.struct_size = sizeof(a);
    a.status_code = [](const bitnet_status* s) { return status_code(s); };
    a.status_message = [](const bitnet_status* s) { return status_message(s); };
    a.status_destroy = [](bitnet_status* s) { status_destroy(s); };
    a.device_count = []() -> int32_t {
      try {
        return Factory::device_count();
      } catch (...) {
        return 0;
      }
    };
    a.backend_create = [](bitnet_backend_create_args* args) {
      return guard([&] {
        if (!args) throw Error(BITNET_STATUS_INVALID_ARGUMENT, "backend_create: args is NULL");
        args->backend = nullptr;
        const uint32_t flags =
            BITNET_HAS_FIELD(args, bitnet_backend_create_args, flags) ? args->flags : 0;
        std::unique_ptr<Backend> impl;
        if constexpr (requires { Factory::create(0, uint32_t{0}); })
          impl = Factory::create(args->device, flags);
        else
          impl = Factory::create(args->device);
        args->backend = new bitnet_backend{std::move(impl)};
      });
    };
    a.backend_destroy = [](bitnet_backend* b) { delete b; };
    a.get_props = [](bitnet_backend* b, bitnet_backend_props* out) {
      return guard([&] {
        if (!b || !out) throw Error(BITNET_STATUS_INVALID_ARGUMENT, "get_props: NULL argument");
        bitnet_backend_props full{};
        full.struct_size = sizeof(full);
        b->impl->props(full);
        const size_t caller = out->struct_size;
        std::memcpy(out, &full, std::min(caller, sizeof(full)));
        out->struct_size = caller;
      });
    };
    a.supports_op = [](bitnet_backend* b, const bitnet_tensor* node) -> int32_t {
      try {
        return b && node && b->impl->supports(*node) ? 1 : 0;
      } catch (...) {
        return 0;
      }
    };
    a.buffer_alloc = [](bitnet_buffer_alloc_args* args) {
      return guard([&] {
        if (!args || !args->backend)
          throw Error(BITNET_STATUS_INVALID_ARGUMENT, "buffer_alloc: NULL argument");
        args->buffer = nullptr;
        auto impl = args->backend->impl->alloc(args->size);
        args->buffer = new bitnet_buffer{std::move(impl)};
      });
    };
    a.buffer_free = [](bitnet_buffer* b) { delete b; };
    a.buffer_upload = [](const bitnet_buffer_upload_args* args) {
      return guard([&] {
        if (!args) throw Error(BITNET_STATUS_INVALID_ARGUMENT, "buffer_upload: args is NULL");
        detail::check_range(args->buffer, args->offset, args->size, "upload");
        args->buffer->impl->upload(args->offset, args->data, args->size);
      });
    };
    a.buffer_download = [](const bitnet_buffer_download_args* args) {
      return guard([&] {
        if (!args) throw Error(BITNET_STATUS_INVALID_ARGUMENT, "buffer_download: args is NULL");
        detail::check_range(args->buffer, args->offset, args->size, "download");
        args->buffer->impl->download(args->offset, args->data, args->size);
      });
    };
    a.buffer_view = [](bitnet_buffer_view_args* args) {
      return guard([&] {
        if (!args) throw Error(BITNET_STATUS_INVALID_ARGUMENT, "buffer_view: args is NULL");
        args->data = nullptr;
        detail::check_range(args->buffer, args->offset, args->size, "view");
        args->data = args->buffer->impl->view(args->offset, args->size);
      });
    };
    a.graph_compute = [](const bitnet_graph_compute_args* args) {
      return guard([&] {
        if (!args || !args->backend)
          throw Error(BITNET_STATUS_INVALID_ARGUMENT, "graph_compute: NULL argument");
        const uint64_t generation =
            BITNET_HAS_FIELD(args, bitnet_graph_compute_args, generation) ? args->generation : 0;
        args->backend->impl->compute_generation(args->nodes, args->n_nodes, generation);
      });
    };
    a.synchronize = [](bitnet_backend* b) {
      return guard([&] {
        if (!b) throw Error(BITNET_STATUS_INVALID_ARGUMENT, "synchronize: backend is NULL");
        b->impl->synchronize();
      });
    };
    return a;
  }();
  return &api;
}

}  // namespace bitnet::sdk

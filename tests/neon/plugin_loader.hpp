// A minimal plugin host for the arm64 harness, over the C ABI alone: dlopen a backend plugin,
// negotiate, score, init with simple host services (log to stderr, a parallel_for on
// NEON_THREADS threads), and drive one backend instance of it.
// Failures throw std::runtime_error with the plugin's own message.
#pragma once

#include <bitnet/backend.h>

#include <cstddef>
#include <string>
#include <vector>

namespace neon_test {

struct Plugin {
  std::string name;
  int32_t score = 0;
  std::string reason;
  const bitnet_backend_api* api = nullptr;
};

// Loads bitnet-<name>.so from NEON_PLUGIN_DIR; `api` is null when the plugin scored 0.
const Plugin& plugin(const std::string& name);

// One backend of a plugin and the buffers allocated on it, freed with it.
class Device {
 public:
  explicit Device(const Plugin& p);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  std::string name() const;
  bool supports(const bitnet_tensor& node) const;
  bitnet_buffer* alloc(size_t bytes);
  void upload(bitnet_buffer* b, size_t offset, const void* data, size_t bytes);
  void download(bitnet_buffer* b, size_t offset, void* data, size_t bytes);
  void compute(const std::vector<const bitnet_tensor*>& nodes);

 private:
  void check(bitnet_status* st, const char* what) const;
  const Plugin& plugin_;
  bitnet_backend* backend_ = nullptr;
  std::vector<bitnet_buffer*> buffers_;
};

}  // namespace neon_test

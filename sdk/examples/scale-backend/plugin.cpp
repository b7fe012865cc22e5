// A complete backend plugin: host-memory buffers and one op (SCALE on F32), parallelised on the
// host's thread pool. Everything else the host needs comes from the SDK helpers.
#include <bitnet/sdk/backend.hpp>
#include <bitnet/sdk/plugin.hpp>

#include <algorithm>

namespace {

namespace sdk = bitnet::sdk;

bool dense_f32(const bitnet_tensor& t) {
  size_t stride = sizeof(float);
  for (int i = 0; i < BITNET_MAX_DIMS; ++i) {
    if (t.nb[i] != stride) return false;
    stride *= static_cast<size_t>(t.ne[i]);
  }
  return true;
}

class ScaleBackend final : public sdk::Backend {
 public:
  void props(bitnet_backend_props& out) override {
    out.device_name = "example scale device";
    out.alignment = 64;
    out.host_memory = 1;
  }
  // SCALE on dense F32 tensors of one shape; compute relies on every condition checked here.
  bool supports(const bitnet_tensor& n) override {
    return n.op == BITNET_OP_SCALE && n.type == BITNET_TYPE_F32 && n.src[0] &&
           n.src[0]->type == BITNET_TYPE_F32 && dense_f32(n) && dense_f32(*n.src[0]) &&
           std::equal(n.ne, n.ne + BITNET_MAX_DIMS, n.src[0]->ne);
  }
  std::unique_ptr<sdk::Buffer> alloc(size_t size) override {
    return std::make_unique<sdk::HostBuffer>(size, 64);
  }
  void compute(const bitnet_tensor* const* nodes, size_t n_nodes) override {
    for (size_t i = 0; i < n_nodes; ++i) {
      const bitnet_tensor& dst = *nodes[i];
      if (!supports(dst)) throw sdk::Error(BITNET_STATUS_UNSUPPORTED, "not a dense F32 SCALE");
      sdk::check_tensor(dst);
      sdk::check_tensor(*dst.src[0]);
      const auto* x = reinterpret_cast<const float*>(sdk::host_data(*dst.src[0]));
      auto* y = reinterpret_cast<float*>(sdk::host_data(dst));
      const size_t count = dst.ne[0] * dst.ne[1] * dst.ne[2] * dst.ne[3];
      const float s = dst.op_params[0];
      sdk::plugin_host().parallel_for(0, count, 4096, [&](size_t b, size_t e) {
        for (size_t j = b; j < e; ++j)
          y[j] = x[j] * s;
      });
    }
  }
};

struct Factory {
  static int device_count() { return 1; }
  static std::unique_ptr<sdk::Backend> create(int) { return std::make_unique<ScaleBackend>(); }
};

sdk::Score score() {
  return {2, "runs on any CPU"};
}

const void* init(const sdk::Host& host) {
  host.debug("example-scale ready with ", host.max_threads(), " threads");
  return sdk::backend_api<Factory>();
}

constexpr sdk::PluginDefinition kPlugin{
    sdk::make_info("example-scale", "1.0.0", BITNET_PLUGIN_KIND_BACKEND,
                   "SDK example: scales F32 tensors"),
    &score, &init};

}  // namespace

BITNET_SDK_EXPORT_PLUGIN(kPlugin)

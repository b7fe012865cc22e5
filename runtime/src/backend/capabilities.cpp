#include <bitnet/runtime/backend/capabilities.hpp>
#include <bitnet/sdk/types.hpp>

namespace bitnet {

Result<BackendCapabilities> query_capabilities(const plugins::PluginRecord& plugin) {
  BackendCapabilities caps;
  Result<Backend> backend = Backend::create(plugin, 0);
  if (!backend) return backend.error();
  caps.devices = plugin.backend->device_count();
  Result<BackendProps> props = backend->props();
  if (!props) return props.error();
  caps.props = std::move(*props);
  for (int32_t op = BITNET_OP_NONE + 1; op < BITNET_OP_COUNT; ++op) {
    OpSupport s{op, {}};
    for (const auto& t : sdk::kTypeTraits) {
      const Probe probe(op, t.id);
      if (backend->supports(probe.node)) s.types.push_back(t.id);
    }
    if (!s.types.empty()) caps.ops.push_back(std::move(s));
  }
  return caps;
}

}  // namespace bitnet

#include <bitnet/runtime/backend/capabilities.hpp>
#include <bitnet/sdk/types.hpp>

namespace bitnet {
namespace {

bitnet_tensor leaf(int32_t type, int64_t ne0, int64_t ne1) {
  bitnet_tensor t{};
  t.struct_size = sizeof(t);
  t.type = type;
  t.ne[0] = ne0;
  t.ne[1] = ne1;
  t.ne[2] = t.ne[3] = 1;
  t.nb[0] = sdk::type_traits(type)->block_bytes;
  t.nb[1] = sdk::row_bytes(type, ne0).value_or(0);
  t.nb[2] = t.nb[3] = t.nb[1] * static_cast<size_t>(ne1);
  return t;
}

}  // namespace

bitnet_tensor probe_node(int32_t op, int32_t type, bitnet_tensor (&leaves)[2]) {
  // 256 elements per row is a whole number of blocks of every type.
  constexpr int64_t k = 256;
  leaves[0] = leaf(type, k, 4);
  const bool matmul = op == BITNET_OP_MUL_MAT;
  leaves[1] = leaf(BITNET_TYPE_F32, k, matmul ? 2 : 1);
  // The output is F32 whatever the weights are: what the runtime's graphs produce.
  bitnet_tensor node = matmul ? leaf(BITNET_TYPE_F32, 4, 2) : leaf(BITNET_TYPE_F32, k, 4);
  node.op = op;
  node.src[0] = &leaves[0];
  if (op == BITNET_OP_SCALE)
    node.op_params[0] = 1.0f;
  else
    node.src[1] = &leaves[1];
  return node;
}

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
      bitnet_tensor leaves[2];
      const bitnet_tensor node = probe_node(op, t.id, leaves);
      if (backend->supports(node)) s.types.push_back(t.id);
    }
    if (!s.types.empty()) caps.ops.push_back(std::move(s));
  }
  return caps;
}

}  // namespace bitnet

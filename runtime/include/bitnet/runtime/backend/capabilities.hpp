// What a backend plugin can do: its device's properties and, for every graph op, the weight
// types it accepts. Asked through supports_op with a probe node per (op, type), so the answer
// is the backend's own, never a list the host assumes.
#pragma once

#include <bitnet/runtime/backend/backend.hpp>

#include <vector>

namespace bitnet {

struct OpSupport {
  int32_t op;
  std::vector<int32_t> types;  // weight (src0) types, in the order of sdk::kTypeTraits
};

struct BackendCapabilities {
  int32_t devices = 0;
  BackendProps props;          // of device 0
  std::vector<OpSupport> ops;  // ops with at least one supported type
};

Result<BackendCapabilities> query_capabilities(const plugins::PluginRecord& plugin);

// A probe node of `op` whose weights (src0) are of `type`; the leaves it points to live in
// `leaves` (two entries), which must outlive the node.
bitnet_tensor probe_node(int32_t op, int32_t type, bitnet_tensor (&leaves)[2]);

}  // namespace bitnet

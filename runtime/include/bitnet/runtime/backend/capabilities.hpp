// What a backend plugin can do: its device's properties and, for every graph op, the weight
// types it accepts. Asked through supports_op with a probe node per (op, type), so the answer
// is the backend's own, never a list the host assumes.
#pragma once

#include <bitnet/runtime/backend/backend.hpp>
#include <bitnet/runtime/backend/probe.hpp>

#include <vector>

namespace bitnet {

struct OpSupport {
  int32_t op;
  // Types of src0 (the weights of MUL_MAT, the table of GET_ROWS; for CPY the destination),
  // in the order of sdk::kTypeTraits.
  std::vector<int32_t> types;
};

struct BackendCapabilities {
  int32_t devices = 0;
  BackendProps props;          // of device 0
  std::vector<OpSupport> ops;  // ops with at least one supported type
};

Result<BackendCapabilities> query_capabilities(const plugins::PluginRecord& plugin);

}  // namespace bitnet

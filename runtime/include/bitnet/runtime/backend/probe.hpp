// Probe nodes: small well-formed nodes for asking a backend's supports_op, one per (op, type).
// Needs only sdk/, so the arm64 test harness (tests/neon), which cannot link the runtime,
// compiles probe.cpp as it is and asks cpu-neon the same questions the runtime asks.
#pragma once

#include <bitnet/backend.h>

#include <cstdint>
#include <initializer_list>

namespace bitnet {

// A contiguous tensor of `type` and shape `ne` (unused dims 1), with no buffer.
bitnet_tensor contiguous_tensor(int32_t type, std::initializer_list<int64_t> ne);

// A small well-formed node of `op` whose src0 (for CPY: the destination) is of `type`, with
// the leaves it points to. Not copyable: the node points into its own leaves.
struct Probe {
  Probe(int32_t op, int32_t type);
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;
  bitnet_tensor leaves[BITNET_MAX_SRC];
  bitnet_tensor node;
};

}  // namespace bitnet

// One graph node to the kernels that compute it. The node was validated (check_node) first.
#pragma once

#include <bitnet/backend.h>

#include <string>

#include "kernels.hpp"
#include "scratch.hpp"

namespace bitnet::cuda {

// "" when this backend can run `node`: cpu-generic's rules for the op, then this backend's
// own limits (head size, alignment the integer kernels load at, grid sizes).
std::string check_node(const bitnet_tensor& node);

struct LaunchContext {
  cudaStream_t stream;
  Scratch* scratch;  // int8 activations of ternary matmuls; sized before launching
  ErrorFlag error;
  int32_t index;  // the node's place in the graph, reported through `error`
};

// Device bytes the node needs from Scratch.
size_t scratch_bytes(const bitnet_tensor& node);

void launch_node(const bitnet_tensor& node, const LaunchContext& ctx);

}  // namespace bitnet::cuda

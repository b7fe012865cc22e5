// Reference implementations of the graph ops: written for clarity and exactness (double
// accumulation), not speed. Every faster backend is checked against these.
#pragma once

#include <bitnet/backend.h>

#include <string>

namespace bitnet::cpu_generic {

// "" when `node` can be computed here, else why not (also used for supports_op).
std::string check_op(const bitnet_tensor& node);
// Computes one node whose inputs are ready. Precondition: check_op(node) is "".
void compute_op(const bitnet_tensor& node);

}  // namespace bitnet::cpu_generic

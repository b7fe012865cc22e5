// The cpu-neon backend: host-RAM buffers, NEON matmuls, and cpu-generic's reference code for
// the ops where speed does not hinge on the ISA.
#pragma once

#include <bitnet/sdk/backend.hpp>

#include <memory>

namespace bitnet::cpu_neon {

struct Factory {
  static int device_count() { return 1; }
  static std::unique_ptr<sdk::Backend> create(int device);
};

}  // namespace bitnet::cpu_neon

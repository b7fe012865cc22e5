// The cpu-avx2 backend: host-RAM buffers, AVX2 matmuls, and cpu-generic's reference code for
// the ops where speed does not hinge on the ISA.
#pragma once

#include <bitnet/sdk/backend.hpp>

#include <memory>

namespace bitnet::cpu_avx2 {

struct Factory {
  static int device_count() { return 1; }
  static std::unique_ptr<sdk::Backend> create(int device);
};

}  // namespace bitnet::cpu_avx2

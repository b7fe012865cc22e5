// The cpu-avx2 backend: host-RAM buffers, AVX2 matmuls, attention and row-wise ops, and
// cpu-generic's reference code for GET_ROWS and ROPE.
#pragma once

#include <bitnet/sdk/backend.hpp>

#include <memory>

namespace bitnet::cpu_avx2 {

struct Factory {
  static int device_count() { return 1; }
  static std::unique_ptr<sdk::Backend> create(int device);
};

}  // namespace bitnet::cpu_avx2

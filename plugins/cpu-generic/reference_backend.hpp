// The cpu-generic backend: buffers in host RAM, ops computed by the plain loops of ops.hpp.
#pragma once

#include <bitnet/sdk/backend.hpp>

#include <memory>

namespace bitnet::cpu_generic {

struct Factory {
  static int device_count() { return 1; }
  static std::unique_ptr<sdk::Backend> create(int device);
};

}  // namespace bitnet::cpu_generic

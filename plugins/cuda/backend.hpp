// The cuda backend: buffers in GPU memory, every node validated before any kernel of the
// graph is queued, kernels on one stream per backend.
#pragma once

#include <bitnet/sdk/backend.hpp>

#include <cstdint>
#include <memory>

namespace bitnet::cuda {

struct Factory {
  static int device_count();
  static std::unique_ptr<sdk::Backend> create(int device, uint32_t flags);
};

}  // namespace bitnet::cuda

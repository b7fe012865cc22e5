// Which GPUs this process can use, asked of the CUDA runtime (linked statically, so without a
// driver the answers are errors, never a failed load).
#pragma once

#include <string>

namespace bitnet::cuda {

struct DeviceCheck {
  int count = 0;       // usable GPUs (sm_80 or newer)
  std::string reason;  // what was found, or why none can be used
};

DeviceCheck check_devices();

// "NVIDIA H200 (GPU 0, sm_90)"
std::string device_label(int device);

}  // namespace bitnet::cuda

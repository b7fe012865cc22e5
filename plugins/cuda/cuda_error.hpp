// CUDA runtime errors as the SDK's errors: what was being done, then CUDA's own words.
#pragma once

#include <cuda_runtime.h>
#include <bitnet/sdk/status.hpp>

#include <string>

namespace bitnet::cuda {

inline void check_cuda(cudaError_t e, const std::string& what) {
  if (e == cudaSuccess) return;
  cudaGetLastError();  // a sticky error stays; a recoverable one must not leak into the next call
  throw sdk::Error(
      e == cudaErrorMemoryAllocation ? BITNET_STATUS_OUT_OF_MEMORY : BITNET_STATUS_INTERNAL,
      what + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

}  // namespace bitnet::cuda

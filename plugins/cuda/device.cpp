#include "device.hpp"

#include <cuda_runtime.h>

#include <cstdio>

namespace bitnet::cuda {
namespace {

constexpr int kMinMajor = 8;  // sm_80: the oldest architecture the plugin carries code for

int attribute(cudaDeviceAttr a, int device) {
  int v = 0;
  return cudaDeviceGetAttribute(&v, a, device) == cudaSuccess ? v : 0;
}

}  // namespace

DeviceCheck check_devices() {
  DeviceCheck out;
  int count = 0;
  if (const cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess) {
    cudaGetLastError();
    out.reason =
        std::string("no usable NVIDIA driver or GPU (CUDA says: ") + cudaGetErrorString(e) + ")";
    return out;
  }
  if (count == 0) {
    out.reason = "no NVIDIA GPU is present";
    return out;
  }
  // Devices are numbered by the runtime; the plugin uses the leading run of capable ones, so
  // device i of the plugin is CUDA device i.
  while (out.count < count && attribute(cudaDevAttrComputeCapabilityMajor, out.count) >= kMinMajor)
    ++out.count;
  if (out.count == 0) {
    out.reason = device_label(0) + " is older than sm_80, the oldest this plugin runs on";
    return out;
  }
  cudaDeviceProp p{};
  size_t total = 0;
  if (cudaGetDeviceProperties(&p, 0) == cudaSuccess) total = p.totalGlobalMem;
  out.reason = std::to_string(out.count) + " GPU(s); GPU 0 is " + device_label(0) + ", " +
               std::to_string(total >> 30) + " GiB";
  return out;
}

std::string device_label(int device) {
  char name[256] = "unknown GPU";
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, device) == cudaSuccess) snprintf(name, sizeof name, "%s", p.name);
  return std::string(name) + " (GPU " + std::to_string(device) + ", sm_" +
         std::to_string(attribute(cudaDevAttrComputeCapabilityMajor, device)) +
         std::to_string(attribute(cudaDevAttrComputeCapabilityMinor, device)) + ")";
}

}  // namespace bitnet::cuda

#include <cstring>

#include "cuda_error.hpp"
#include "host_mirror.hpp"
#include "launch.cuh"

namespace bitnet::cuda {
namespace {

constexpr int kThreads = 256;

// 16 bytes a thread, so a warp's stores reach the bus as 512-byte writes; the tail of n % 16
// bytes by the last thread.
__global__ void copy_to_host(const char* src, char* dst, size_t n) {
  grid_wait();
  const size_t i = static_cast<size_t>(blockIdx.x) * kThreads + threadIdx.x, n16 = n / 16;
  if (i < n16) reinterpret_cast<uint4*>(dst)[i] = reinterpret_cast<const uint4*>(src)[i];
  if (i == n16)
    for (size_t b = 16 * n16; b < n; ++b)
      dst[b] = src[b];
}

}  // namespace

HostMirror::~HostMirror() {
  cudaSetDevice(device_);
  cudaFreeHost(host_);
}

bool HostMirror::reserve(size_t bytes) {
  if (bytes <= capacity_) return false;
  clear();
  check_cuda(cudaFreeHost(host_), "freeing pinned memory");
  host_ = device_view_ = nullptr;
  capacity_ = 0;
  void* p = nullptr;
  check_cuda(cudaHostAlloc(&p, bytes, cudaHostAllocMapped), "allocating mapped host memory");
  host_ = static_cast<char*>(p);
  capacity_ = bytes;
  check_cuda(cudaHostGetDevicePointer(&p, host_, 0), "mapping host memory for the GPU");
  device_view_ = static_cast<char*>(p);
  return true;
}

void HostMirror::launch_copy(const MirrorSpan& span) const {
  const auto blocks = static_cast<unsigned>((span.bytes / 16 + kThreads) / kThreads);
  launch(copy_to_host, blocks, kThreads, stream_, span.src, device_view_, span.bytes);
}

void HostMirror::forget(const void* buffer, size_t offset, size_t n) {
  const MirrorSpan& h = held_;
  if (h.bytes && buffer == h.buffer && offset < h.offset + h.bytes && h.offset < offset + n)
    clear();
}

const void* HostMirror::view(const void* buffer, size_t offset, size_t n) const {
  const MirrorSpan& h = held_;
  if (!h.bytes || buffer != h.buffer || offset < h.offset || offset + n > h.offset + h.bytes)
    return nullptr;
  check_cuda(cudaStreamSynchronize(stream_), "running the graph");
  return host_ + (offset - h.offset);
}

}  // namespace bitnet::cuda

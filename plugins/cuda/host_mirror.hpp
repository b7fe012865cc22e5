// The last graph's output (a decode step's logits row) copied into mapped host memory by the
// graph itself, so that the download which follows is a memcpy on the host, or no copy at all
// where the host reads it in place (buffer_view): a download after the graph cost a 513 KB
// PCIe copy of 24 us, and its call, on top of the host's copy, per 2B4T token. The batch-1
// matvec computing the output stores its rows here as well (DecodeMatvec::mirror); any other
// last node is copied by launch_copy after the graph.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

namespace bitnet::cuda {

// Bytes [offset, offset + bytes) of a DeviceBuffer, which start at `src` on the device; none
// when `bytes` is 0.
struct MirrorSpan {
  const void* buffer = nullptr;
  size_t offset = 0, bytes = 0;
  const char* src = nullptr;
};

class HostMirror {
 public:
  // Outputs above this are left to an ordinary download (all the logits of a prompt).
  static constexpr size_t kMaxBytes = size_t{4} << 20;

  HostMirror(int device, cudaStream_t stream) : device_(device), stream_(stream) {}
  ~HostMirror();
  HostMirror(const HostMirror&) = delete;
  HostMirror& operator=(const HostMirror&) = delete;

  // Room for `bytes`; true when the host memory moved (captured graphs write to it).
  bool reserve(size_t bytes);
  // Queues the copy of `span` (16-byte aligned) into the mirror.
  void launch_copy(const MirrorSpan& span) const;
  // The mirror as kernels address it.
  float* device_view() const { return reinterpret_cast<float*>(device_view_); }
  // The mirror now holds `span`, once the stream has done what it was given.
  void hold(const MirrorSpan& span) { held_ = span; }
  // Forgets the mirror where [offset, offset + n) of `buffer` is written or freed.
  void forget(const void* buffer, size_t offset, size_t n);
  void clear() { held_ = {}; }
  // Where [offset, offset + n) of `buffer` is in host memory when the mirror holds all of it,
  // after waiting for the stream; null otherwise.
  const void* view(const void* buffer, size_t offset, size_t n) const;

 private:
  int device_;
  cudaStream_t stream_;
  char* host_ = nullptr;
  char* device_view_ = nullptr;  // host_ as the GPU addresses it
  size_t capacity_ = 0;
  MirrorSpan held_;
};

}  // namespace bitnet::cuda

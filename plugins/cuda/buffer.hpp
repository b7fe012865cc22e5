// Device memory as the SDK's Buffer: one cudaMalloc per buffer, zeroed once, copied with the
// legacy default stream, which orders itself after the backend's (blocking) stream, so an
// upload is seen by the next graph and a download sees everything the last graph wrote. A
// download of what the last graph also copied to the host (HostMirror) is read from there, or
// viewed there.
#pragma once

#include <bitnet/backend.h>
#include <bitnet/sdk/backend.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "host_mirror.hpp"

namespace bitnet::cuda {

class DeviceBuffer final : public sdk::Buffer {
 public:
  // `epoch` counts the backend's buffer allocations and frees (see CudaBackend::compute).
  DeviceBuffer(int device, size_t size, std::shared_ptr<uint64_t> epoch,
               std::shared_ptr<HostMirror> mirror);
  ~DeviceBuffer() override;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  char* data() const { return data_; }
  void upload(size_t offset, const void* src, size_t n) override;
  void download(size_t offset, void* dst, size_t n) override;
  // In place where the host mirror holds the bytes (the last graph's logits row).
  const void* view(size_t offset, size_t n) override;

 private:
  int device_;
  std::shared_ptr<uint64_t> epoch_;
  std::shared_ptr<HostMirror> mirror_;
  char* data_ = nullptr;
  // Pinned host memory downloads go through (a decode step's logits row): a copy from pinned
  // memory runs at full PCIe speed, one into pageable memory is staged by the driver.
  char* staging_ = nullptr;
  size_t staging_size_ = 0;
};

// The DeviceBuffer a tensor lives in; an error if its buffer is not one.
DeviceBuffer* device_buffer(const bitnet_tensor& t);
// The device address of a tensor's first byte; an error if its buffer is not a DeviceBuffer.
char* device_data(const bitnet_tensor& t);

}  // namespace bitnet::cuda

#include "buffer.hpp"

#include <cuda_runtime.h>

#include <cstring>
#include <string>

#include "cuda_error.hpp"

namespace bitnet::cuda {
namespace {

constexpr size_t kStagedBytes = size_t{16} << 20;  // larger downloads go straight to the caller
constexpr size_t kQueuedUploadBytes = size_t{64} << 10;

std::string gib(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1ull << 30));
  return buf;
}

}  // namespace

DeviceBuffer::DeviceBuffer(int device, size_t size, std::shared_ptr<uint64_t> epoch,
                           std::shared_ptr<HostMirror> mirror)
    : Buffer(size), device_(device), epoch_(std::move(epoch)), mirror_(std::move(mirror)) {
  ++*epoch_;
  check_cuda(cudaSetDevice(device_), "selecting GPU " + std::to_string(device_));
  void* p = nullptr;
  if (const cudaError_t e = cudaMalloc(&p, size ? size : 1); e != cudaSuccess) {
    cudaGetLastError();
    size_t free = 0, total = 0;
    cudaMemGetInfo(&free, &total);
    throw sdk::Error(BITNET_STATUS_OUT_OF_MEMORY,
                     "a buffer of " + gib(size) + " does not fit: " + gib(free) + " free on GPU " +
                         std::to_string(device_) + " (" + cudaGetErrorString(e) + ")");
  }
  data_ = static_cast<char*>(p);
  if (const cudaError_t e = cudaMemset(data_, 0, size); e != cudaSuccess) {
    cudaFree(data_);
    check_cuda(e, "clearing a new buffer");
  }
}

DeviceBuffer::~DeviceBuffer() {
  ++*epoch_;
  mirror_->forget(this, 0, size());
  cudaSetDevice(device_);
  cudaFree(data_);
  cudaFreeHost(staging_);
}

void DeviceBuffer::upload(size_t offset, const void* src, size_t n) {
  if (!n) return;
  mirror_->forget(this, offset, n);
  check_cuda(cudaSetDevice(device_), "selecting GPU " + std::to_string(device_));
  // A small copy from pageable memory is staged by the driver before cudaMemcpyAsync returns,
  // so `src` may be reused at once, and on the legacy stream it lands before the next graph
  // runs: a decode step's two id uploads no longer wait for the device each. Sources are the
  // host's own memory, never pinned (only this plugin pins, for its downloads); a pinned one
  // would be read by the DMA after the call returns.
  if (n <= kQueuedUploadBytes) {
    check_cuda(cudaMemcpyAsync(data_ + offset, src, n, cudaMemcpyHostToDevice, nullptr),
               "upload to the GPU");
    return;
  }
  check_cuda(cudaMemcpy(data_ + offset, src, n, cudaMemcpyHostToDevice), "upload to the GPU");
}

void DeviceBuffer::download(size_t offset, void* dst, size_t n) {
  if (!n) return;
  check_cuda(cudaSetDevice(device_), "selecting GPU " + std::to_string(device_));
  if (const void* held = mirror_->view(this, offset, n)) {
    std::memcpy(dst, held, n);
    return;
  }
  if (n > kStagedBytes) {
    check_cuda(cudaMemcpy(dst, data_ + offset, n, cudaMemcpyDeviceToHost), "download from the GPU");
    return;
  }
  if (n > staging_size_) {
    check_cuda(cudaFreeHost(staging_), "freeing pinned memory");
    staging_ = nullptr;
    staging_size_ = 0;
    void* p = nullptr;
    check_cuda(cudaMallocHost(&p, n), "allocating pinned memory");
    staging_ = static_cast<char*>(p);
    staging_size_ = n;
  }
  check_cuda(cudaMemcpy(staging_, data_ + offset, n, cudaMemcpyDeviceToHost),
             "download from the GPU");
  std::memcpy(dst, staging_, n);
}

const void* DeviceBuffer::view(size_t offset, size_t n) {
  check_cuda(cudaSetDevice(device_), "selecting GPU " + std::to_string(device_));
  return mirror_->view(this, offset, n);
}

DeviceBuffer* device_buffer(const bitnet_tensor& t) {
  auto* b = t.buffer ? dynamic_cast<DeviceBuffer*>(t.buffer->impl.get()) : nullptr;
  if (!b)
    throw sdk::Error(BITNET_STATUS_INVALID_ARGUMENT, std::string("tensor ") +
                                                         (t.name ? t.name : "(unnamed)") +
                                                         " is not in a buffer of the cuda backend");
  return b;
}

char* device_data(const bitnet_tensor& t) {
  return device_buffer(t)->data() + t.offset;
}

}  // namespace bitnet::cuda

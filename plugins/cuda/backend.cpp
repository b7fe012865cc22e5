#include "backend.hpp"

#include <cuda_runtime.h>

#include <string>

#include "buffer.hpp"
#include "cuda_error.hpp"
#include "device.hpp"
#include "node_launch.hpp"
#include "scratch.hpp"

namespace bitnet::cuda {
namespace {

constexpr size_t kAlignment = 256;

std::string node_label(const bitnet_tensor* node, size_t i) {
  return "node " + std::to_string(i) + " (" + (node && node->name ? node->name : "unnamed") + ")";
}

class CudaBackend final : public sdk::Backend {
 public:
  explicit CudaBackend(int device)
      : device_(device), label_(device_label(device)), scratch_(device) {
    select();
    check_cuda(cudaStreamCreate(&stream_), "creating a CUDA stream");
    check_cuda(cudaMalloc(&error_, sizeof(int32_t)), "allocating the error flag");
    check_cuda(cudaMemset(error_, 0, sizeof(int32_t)), "clearing the error flag");
    check_cuda(cudaMallocHost(&error_host_, sizeof(int32_t)), "allocating pinned memory");
  }
  ~CudaBackend() override {
    cudaSetDevice(device_);
    cudaStreamSynchronize(stream_);
    cudaFreeHost(error_host_);
    cudaFree(error_);
    cudaStreamDestroy(stream_);
  }
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  void props(bitnet_backend_props& out) override {
    select();
    size_t free = 0, total = 0;
    check_cuda(cudaMemGetInfo(&free, &total),
               "asking GPU " + std::to_string(device_) + " for its memory");
    out.device_name = label_.c_str();
    out.memory_total = total;
    out.memory_free = free;
    out.alignment = kAlignment;
    out.host_memory = 0;
  }

  bool supports(const bitnet_tensor& node) override { return check_node(node).empty(); }

  std::unique_ptr<sdk::Buffer> alloc(size_t size) override {
    return std::make_unique<DeviceBuffer>(device_, size);
  }

  void compute(const bitnet_tensor* const* nodes, size_t n) override {
    if (n && !nodes) throw sdk::Error(BITNET_STATUS_INVALID_ARGUMENT, "graph nodes are NULL");
    select();
    size_t scratch = 0;
    for (size_t i = 0; i < n; ++i) {
      const bitnet_tensor* node = nodes[i];
      if (!node) throw sdk::Error(BITNET_STATUS_INVALID_ARGUMENT, node_label(node, i) + " is NULL");
      if (std::string why = check_node(*node); !why.empty())
        throw sdk::Error(BITNET_STATUS_UNSUPPORTED, node_label(node, i) + ": " + why);
      sdk::check_tensor(*node);
      for (const bitnet_tensor* s : node->src)
        if (s) sdk::check_tensor(*s);
      scratch = std::max(scratch, scratch_bytes(*node));
    }
    scratch_.reserve(scratch);
    for (size_t i = 0; i < n; ++i) {
      launch_node(*nodes[i], {stream_, &scratch_, error_, static_cast<int32_t>(i)});
      check_cuda(cudaGetLastError(), "launching " + node_label(nodes[i], i));
    }
    check_device_errors(nodes, n);
  }

  void synchronize() override {
    select();
    check_cuda(cudaStreamSynchronize(stream_), "running the graph");
  }

 private:
  void select() { check_cuda(cudaSetDevice(device_), "selecting GPU " + std::to_string(device_)); }

  // Ids and positions live on the device, so kernels report a bad one through the flag; it is
  // read once per graph, which also waits for the graph to finish.
  void check_device_errors(const bitnet_tensor* const* nodes, size_t n) {
    check_cuda(
        cudaMemcpyAsync(error_host_, error_, sizeof(int32_t), cudaMemcpyDeviceToHost, stream_),
        "reading the error flag");
    check_cuda(cudaStreamSynchronize(stream_), "running the graph");
    const int32_t flagged = *error_host_;
    if (!flagged) return;
    check_cuda(cudaMemset(error_, 0, sizeof(int32_t)), "clearing the error flag");
    const size_t i = static_cast<size_t>(flagged - 1);
    const bitnet_tensor* node = i < n ? nodes[i] : nullptr;
    const char* what = node && node->op == BITNET_OP_GET_ROWS
                           ? "a row id is outside the table"
                           : "a query position is outside the keys given";
    throw sdk::Error(BITNET_STATUS_INVALID_ARGUMENT, node_label(node, i) + ": " + what);
  }

  int device_;
  std::string label_;
  Scratch scratch_;
  cudaStream_t stream_ = nullptr;
  int32_t* error_ = nullptr;
  int32_t* error_host_ = nullptr;
};

}  // namespace

int Factory::device_count() {
  return check_devices().count;
}

std::unique_ptr<sdk::Backend> Factory::create(int device, uint32_t) {
  const DeviceCheck devices = check_devices();
  if (devices.count == 0) throw sdk::Error(BITNET_STATUS_NOT_FOUND, "cuda: " + devices.reason);
  if (device < 0 || device >= devices.count)
    throw sdk::Error(BITNET_STATUS_NOT_FOUND, "cuda: there is no GPU " + std::to_string(device) +
                                                  " (" + devices.reason + ")");
  return std::make_unique<CudaBackend>(device);
}

}  // namespace bitnet::cuda

#include "scratch.hpp"

#include <cuda_runtime.h>

#include "cuda_error.hpp"

namespace bitnet::cuda {

Scratch::~Scratch() {
  cudaSetDevice(device_);
  cudaFree(data_);
}

void Scratch::reserve(size_t bytes) {
  if (bytes <= size_) return;
  check_cuda(cudaSetDevice(device_), "selecting a GPU");
  check_cuda(cudaFree(data_), "freeing scratch memory");
  data_ = nullptr;
  size_ = 0;
  void* p = nullptr;
  check_cuda(cudaMalloc(&p, bytes), "allocating " + std::to_string(bytes) + " bytes of scratch");
  data_ = static_cast<char*>(p);
  size_ = bytes;
}

}  // namespace bitnet::cuda

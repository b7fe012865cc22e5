// cuBLAS for prefill matmuls, loaded at run time (dlopen): the plugin links no CUDA library
// dynamically, so it still loads and scores 0 with its reason where no CUDA is installed, and
// where libcublas is missing the plugin's own kernels serve instead.
#pragma once

#include <cuda_runtime.h>
#include <library_types.h>

#include <cstdint>
#include <memory>

namespace bitnet::cuda {

class Blas {
 public:
  // nullptr when libcublas cannot be loaded or set up on this stream.
  static std::unique_ptr<Blas> load(int device, cudaStream_t stream);
  ~Blas();
  Blas(const Blas&) = delete;
  Blas& operator=(const Blas&) = delete;

  // c[n][m] (row stride ldc elements) = sum_k w[m][k] * x[n][k], both operands row-major with
  // row strides lda and ldb elements; with `accumulate`, c += that sum. `ab` is their type:
  // CUDA_R_8I gives exact int32 sums in c; CUDA_R_16F or CUDA_R_32F give F32 sums, times
  // `scale`.
  void gemm(cudaDataType ab, const void* w, int64_t lda, const void* x, int64_t ldb, void* c,
            int64_t ldc, int64_t m, int64_t n, int64_t k, bool accumulate = false,
            float scale = 1.0f);

 private:
  struct Api;
  Blas(std::unique_ptr<Api> api, void* handle, void* workspace);
  std::unique_ptr<Api> api_;
  void* handle_;
  void* workspace_;
};

}  // namespace bitnet::cuda

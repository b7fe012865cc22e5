#include "blas.hpp"

#include <dlfcn.h>
#include <bitnet/sdk/status.hpp>

#include <string>

namespace bitnet::cuda {
namespace {

// cuBLAS wants a workspace of its own while a stream is captured into a CUDA graph.
constexpr size_t kWorkspace = 32u << 20;

// The parts of cublas_api.h used here, by their documented values: the plugin builds where the
// toolkit has no cuBLAS headers, as it runs where there is no libcublas.
using cublasHandle_t = void*;
using cublasStatus_t = int;
constexpr cublasStatus_t CUBLAS_STATUS_SUCCESS = 0;
constexpr int CUBLAS_OP_N = 0, CUBLAS_OP_T = 1;
constexpr int CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_32I = 72;
constexpr int CUBLAS_GEMM_DEFAULT = -1;

template <class F>
F symbol(void* lib, const char* name) {
  return reinterpret_cast<F>(dlsym(lib, name));
}

}  // namespace

struct Blas::Api {
  void* lib = nullptr;
  cublasStatus_t (*create)(cublasHandle_t*) = nullptr;
  cublasStatus_t (*destroy)(cublasHandle_t) = nullptr;
  cublasStatus_t (*set_stream)(cublasHandle_t, cudaStream_t) = nullptr;
  cublasStatus_t (*set_workspace)(cublasHandle_t, void*, size_t) = nullptr;
  cublasStatus_t (*gemm)(cublasHandle_t, int, int, int, int, int, const void*, const void*,
                         cudaDataType, int, const void*, cudaDataType, int, const void*, void*,
                         cudaDataType, int, int, int) = nullptr;
  ~Api() {
    if (lib) dlclose(lib);
  }
};

std::unique_ptr<Blas> Blas::load(int device, cudaStream_t stream) {
  auto api = std::make_unique<Api>();
  for (const char* name : {"libcublas.so.13", "/usr/local/cuda/lib64/libcublas.so.13"})
    if ((api->lib = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
  if (!api->lib) return nullptr;
  api->create = symbol<decltype(api->create)>(api->lib, "cublasCreate_v2");
  api->destroy = symbol<decltype(api->destroy)>(api->lib, "cublasDestroy_v2");
  api->set_stream = symbol<decltype(api->set_stream)>(api->lib, "cublasSetStream_v2");
  api->set_workspace = symbol<decltype(api->set_workspace)>(api->lib, "cublasSetWorkspace_v2");
  api->gemm = symbol<decltype(api->gemm)>(api->lib, "cublasGemmEx");
  if (!api->create || !api->destroy || !api->set_stream || !api->set_workspace || !api->gemm)
    return nullptr;
  if (cudaSetDevice(device) != cudaSuccess) return nullptr;
  cublasHandle_t handle = nullptr;
  if (api->create(&handle) != CUBLAS_STATUS_SUCCESS) return nullptr;
  void* workspace = nullptr;
  if (cudaMalloc(&workspace, kWorkspace) != cudaSuccess ||
      api->set_stream(handle, stream) != CUBLAS_STATUS_SUCCESS ||
      api->set_workspace(handle, workspace, kWorkspace) != CUBLAS_STATUS_SUCCESS) {
    cudaGetLastError();
    cudaFree(workspace);
    api->destroy(handle);
    return nullptr;
  }
  return std::unique_ptr<Blas>(new Blas(std::move(api), handle, workspace));
}

Blas::Blas(std::unique_ptr<Api> api, void* handle, void* workspace)
    : api_(std::move(api)), handle_(handle), workspace_(workspace) {}

Blas::~Blas() {
  api_->destroy(handle_);
  cudaFree(workspace_);
}

void Blas::gemm(cudaDataType ab, const void* w, int64_t lda, const void* x, int64_t ldb, void* c,
                int64_t ldc, int64_t m, int64_t n, int64_t k, bool accumulate, float scale) {
  // Column-major as cuBLAS sees it: w is k x m (transposed to m x k), x is k x n, c is m x n.
  const bool integer = ab == CUDA_R_8I;
  const int32_t one_i = 1, beta_i = accumulate ? 1 : 0;
  const float beta_f = accumulate ? 1.0f : 0.0f;
  const cublasStatus_t s =
      api_->gemm(handle_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(m), static_cast<int>(n),
                 static_cast<int>(k), integer ? static_cast<const void*>(&one_i) : &scale, w, ab,
                 static_cast<int>(lda), x, ab, static_cast<int>(ldb),
                 integer ? static_cast<const void*>(&beta_i) : &beta_f, c,
                 integer ? CUDA_R_32I : CUDA_R_32F, static_cast<int>(ldc),
                 integer ? CUBLAS_COMPUTE_32I : CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  if (s != CUBLAS_STATUS_SUCCESS)
    throw sdk::Error(BITNET_STATUS_INTERNAL, "cuBLAS matrix product " + std::to_string(m) + "x" +
                                                 std::to_string(k) + " by " + std::to_string(n) +
                                                 " rows failed (status " +
                                                 std::to_string(static_cast<int>(s)) + ")");
}

}  // namespace bitnet::cuda

// bitnet-gpu-bandwidth: the GPU's memory bandwidth, the yardstick for the cuda backend's decode
// speed (weight bytes per token x tokens per second). Two figures: cudaMemcpy device to device
// (bytes read + bytes written per second) and a kernel that only reads, as a matvec does.
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

namespace {

constexpr size_t kBytes = size_t{4} << 30;
constexpr int kRepeats = 20;

void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  std::fprintf(stderr, "bitnet-gpu-bandwidth: %s: %s\n", what, cudaGetErrorString(e));
  std::exit(1);
}

__global__ void read_all(const uint4* p, size_t n, unsigned* sink) {
  uint4 acc{};
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const uint4 v = p[i];
    acc.x ^= v.x;
    acc.y ^= v.y;
    acc.z ^= v.z;
    acc.w ^= v.w;
  }
  if ((acc.x ^ acc.y ^ acc.z ^ acc.w) == 0x12345678u) *sink = 1;  // keeps the loads
}

template <class F>
double best_seconds(F&& f) {
  cudaEvent_t a, b;
  check(cudaEventCreate(&a), "event");
  check(cudaEventCreate(&b), "event");
  f();
  float best = 1e30f;
  for (int i = 0; i < kRepeats; ++i) {
    check(cudaEventRecord(a), "record");
    f();
    check(cudaEventRecord(b), "record");
    check(cudaEventSynchronize(b), "synchronize");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, a, b), "elapsed");
    if (ms < best) best = ms;
  }
  return best / 1e3;
}

}  // namespace

int main() {
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, 0), "no GPU");
  char *src = nullptr, *dst = nullptr;
  unsigned* sink = nullptr;
  check(cudaMalloc(&src, kBytes), "cudaMalloc");
  check(cudaMalloc(&dst, kBytes), "cudaMalloc");
  check(cudaMalloc(&sink, sizeof(unsigned)), "cudaMalloc");
  check(cudaMemset(src, 1, kBytes), "cudaMemset");
  const double copy =
      best_seconds([&] { check(cudaMemcpy(dst, src, kBytes, cudaMemcpyDeviceToDevice), "copy"); });
  const double read = best_seconds([&] {
    read_all<<<prop.multiProcessorCount * 8, 512>>>(reinterpret_cast<const uint4*>(src),
                                                    kBytes / sizeof(uint4), sink);
  });
  std::printf("%s: device-to-device copy %.0f GB/s (read + write), read-only kernel %.0f GB/s\n",
              prop.name, 2.0 * kBytes / copy / 1e9, kBytes / read / 1e9);
  return 0;
}

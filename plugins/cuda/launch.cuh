// Kernel launches with programmatic dependent launch (sm_90): the next kernel of the stream is
// started while the current one still runs, its blocks wait in grid_wait() until the current
// grid has finished and its writes are visible. A decode step is hundreds of small kernels, so
// overlapping each one's launch and weight fetch with the previous one's tail is most of what
// is left to win once the number of kernels is down.
//
// Rules every kernel launched through `launch` follows: it calls grid_wait() before it reads
// anything an earlier kernel may have written and before it writes anything (a later grid
// waits for this grid to finish, and this grid finishes after its predecessor, so ordering
// stays transitive); what it does before grid_wait() is limited to L2 prefetches (of weights,
// or of the KV cache), which return nothing and so cannot observe stale data, to loads of
// weights, which no kernel writes, and to loads of Dynamic values, which the host copies before
// the graph starts.
#pragma once

#include <cuda_runtime.h>

#include <utility>

namespace bitnet::cuda {

__device__ __forceinline__ void grid_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;");
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__device__ __forceinline__ void prefetch_l2(const void* p) {
  asm volatile("prefetch.global.L2 [%0];" ::"l"(p));
}

// bytes from p (both multiples of 16) into L2, by the calling block: one bulk prefetch on sm_90,
// else a prefetch every 32 bytes (a sector) spread over the block's threads.
__device__ __forceinline__ void prefetch_l2_range(const char* p, size_t bytes) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if (threadIdx.x == 0 && bytes)
    asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" ::"l"(p),
                 "r"(static_cast<uint32_t>(bytes))
                 : "memory");
#else
  for (size_t o = threadIdx.x * 32; o < bytes; o += blockDim.x * 32)
    prefetch_l2(p + o);
#endif
}

// Queues `kernel` on `s` with `shared` bytes of dynamic shared memory; a failure is left for
// cudaGetLastError, as with <<<>>>.
template <class... Params, class... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared, cudaStream_t s,
            Args&&... args) {
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = shared;
  config.stream = s;
  cudaLaunchAttribute attribute[1];
  attribute[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute[0].val.programmaticStreamSerializationAllowed = 1;
  config.attrs = attribute;
  config.numAttrs = 1;
  cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
}

template <class... Params, class... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, cudaStream_t s, Args&&... args) {
  launch(kernel, grid, block, size_t{0}, s, std::forward<Args>(args)...);
}

}  // namespace bitnet::cuda

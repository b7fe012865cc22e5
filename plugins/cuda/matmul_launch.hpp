// MUL_MAT nodes one at a time (node_launch.cpp groups batch-1 ones first): cuBLAS for prefill
// where it is loaded, else the plugin's matvec, tiled and ternary kernels; and the scratch
// layout of the int8 activations ternary matmuls share.
#pragma once

#include <bitnet/backend.h>

#include <cstddef>
#include <cstdint>

#include "node_launch.hpp"
#include "tensor_util.hpp"

namespace bitnet::cuda {

// Activation rows quantised for ternary matmuls and still valid: the F32 rows they came from.
struct Quantized {
  const char* data = nullptr;
  int64_t k = 0, n = 0;
  size_t stride = 0;

  bool holds(const bitnet_tensor& x) const {
    return data && flat(x) && device_data(x) == data && x.ne[0] == k && x.ne[1] == n &&
           x.nb[1] == stride;
  }
  // Forgets the rows when `t` (just written) may overlap them.
  void written(const bitnet_tensor& t) {
    if (!data) return;
    const auto [begin, end] = extent(t);
    const char* held_end = data + static_cast<size_t>(n - 1) * stride + k * sizeof(float);
    if (begin < held_end && data < end) data = nullptr;
  }
};

// Where the int8 activation rows of ternary matmuls (n rows of k) and their max|x| live.
int8_t* scratch_q(const LaunchContext& ctx);
float* scratch_amax(const LaunchContext& ctx, int64_t n, int64_t k);

// Device bytes of Scratch a MUL_MAT node needs.
size_t mul_mat_scratch_bytes(const bitnet_tensor& node);

void launch_mul_mat(const bitnet_tensor& node, const LaunchContext& ctx, Quantized& held);

}  // namespace bitnet::cuda

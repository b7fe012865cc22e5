// A validated graph to the kernels that compute it, with the fusions that pay at batch 1: an
// RMS_NORM that feeds a ternary MUL_MAT also quantises its output (no separate pass), and
// ternary matmuls of one input (q, k, v; gate, up) quantise it once.
#pragma once

#include <bitnet/backend.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "blas.hpp"
#include "kernels.hpp"
#include "scratch.hpp"

namespace bitnet::cuda {

// "" when this backend can run `node`: cpu-generic's rules for the op, then this backend's
// own limits (head size, alignment the integer kernels load at, grid sizes).
std::string check_node(const bitnet_tensor& node);

// Device bytes the node needs from Scratch.
size_t scratch_bytes(const bitnet_tensor& node);

// The node's Dynamic value: the address a CPY writes, the key count of an ATTENTION, else 0.
int64_t dynamic_value(const bitnet_tensor& node);

// Everything about a graph that its kernels' arguments are made of, except the Dynamic
// values: two graphs with equal keys can share one captured CUDA graph. A node's words are
// written from `out` (at most kShapeKeyWords of them), which is returned past them. Written
// into a buffer kept at its size, not appended to a vector: the key of a 2B4T decode step is
// some 36,000 words, and pushing them took 43 us of host time a token on an H200's host.
constexpr size_t kTensorKeyWords = 3 + 2 * BITNET_MAX_DIMS;
constexpr size_t kShapeKeyWords = (1 + BITNET_MAX_SRC) * kTensorKeyWords + BITNET_MAX_OP_PARAMS;
uint64_t* write_shape_key(const bitnet_tensor& node, uint64_t* out);

struct LaunchContext {
  cudaStream_t stream;
  Scratch* scratch;        // int8 activations of ternary matmuls, operands of cuBLAS products
  ErrorFlag error;         // set to a node's index + 1 by kernels that meet a bad id/position
  const int64_t* dynamic;  // device array of each node's dynamic_value, by node index
  Blas* blas;              // prefill matmuls where not null
  // The graph's last output, wanted in host memory (HostMirror): a batch-1 matvec computing it
  // writes it there too (mapped memory, `mirror` as the GPU addresses it) and sets *mirrored;
  // otherwise the backend copies it after the graph.
  const char* mirror_src = nullptr;
  float* mirror = nullptr;
  bool* mirrored = nullptr;
};

// GPU time per kind of node ("MUL_MAT I2_S 2560x6912"), for BITNET_CUDA_PROFILE=1.
struct Profile {
  std::map<std::string, std::pair<double, int64_t>> ms_and_count;
};

// Queues the kernels of nodes[0..n) on ctx.stream (also while the stream is being captured).
// With `profile`, waits for each node and adds its time there instead.
void launch_graph(const bitnet_tensor* const* nodes, size_t n, const LaunchContext& ctx,
                  Profile* profile = nullptr);

}  // namespace bitnet::cuda

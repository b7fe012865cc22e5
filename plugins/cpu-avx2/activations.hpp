// Activation rows prepared for integer dot products, once per matmul: int8 per 32-element
// block with a float scale (for Q8_0, Q4_0, Q4_K, Q6_K weights, as llama.cpp's Q8_0/Q8_K do),
// or int8 per row with one absmax scale (ternary weights, as backend.h specifies).
#pragma once

#include <bitnet/backend.h>

#include <cstdint>
#include <vector>

namespace bitnet::cpu_avx2 {

struct BlockActs {
  int64_t k = 0;
  std::vector<int8_t> q;   // [n][k]
  std::vector<float> d;    // [n][k/32]
  std::vector<int32_t> s;  // [n][k/32]: sum of the block's q
  const int8_t* row(int64_t n) const { return q.data() + n * k; }
  const float* scales(int64_t n) const { return d.data() + n * (k / 32); }
  const int32_t* sums(int64_t n) const { return s.data() + n * (k / 32); }
};

struct RowActs {
  int64_t k = 0;
  std::vector<int8_t> q;      // [n][k]
  std::vector<float> amax;    // [n]: the row's absmax (floored at 1e-5)
  std::vector<int32_t> sums;  // [n][blocks + 1]: sum of q per 256 elements, then the row's total
  int64_t blocks() const { return (k + 255) / 256; }
  const int8_t* row(int64_t n) const { return q.data() + n * k; }
  const int32_t* block_sums(int64_t n) const { return sums.data() + n * (blocks() + 1); }
  int32_t total(int64_t n) const { return block_sums(n)[blocks()]; }
  // amax / 127 in double, as cpu-generic scales, so integer sums give identical results.
  double step(int64_t n) const { return static_cast<double>(amax[n]) / 127.0; }
};

// Rows of src1 (F32 [k, n]) at batch (i2, i3).
void quantize_blocks(const bitnet_tensor& x, int64_t i2, int64_t i3, BlockActs& out);
void quantize_rows(const bitnet_tensor& x, int64_t i2, int64_t i3, RowActs& out);

#if BITNET_CPU_AVX512
// quantize_blocks with 128 added to every q (modulo 256), so that they read as unsigned bytes:
// the block-quantised prefill tiles (block_vnni) take the activations as vpdpbusd's unsigned
// operand.
void quantize_blocks_unsigned(const bitnet_tensor& x, int64_t i2, int64_t i3, BlockActs& out);
#endif

}  // namespace bitnet::cpu_avx2

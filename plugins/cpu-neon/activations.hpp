// Activation rows prepared for integer dot products, once per matmul, by cpu-generic's
// int8_quantize.hpp loops over NEON absmax and rounding: int8 per 32-element block with a float
// scale (Q8_0, Q4_0, Q4_K, Q6_K weights) or int8 per row with one absmax scale (ternary
// weights, exactly as backend.h specifies). The kernels see them through plain views, so the
// SDOT file instantiates no library code that the plain path could end up sharing.
#pragma once

#include <bitnet/backend.h>

#include <cstdint>
#include <vector>

namespace bitnet::cpu_neon {

struct BlockView {
  int64_t k;
  const int8_t* q;   // [n][k]
  const float* d;    // [n][k/32]
  const int32_t* s;  // [n][k/32]: sum of the block's q
  const int8_t* row(int64_t n) const { return q + n * k; }
  const float* scales(int64_t n) const { return d + n * (k / 32); }
  const int32_t* sums(int64_t n) const { return s + n * (k / 32); }
};

struct RowView {
  int64_t k;
  const int8_t* q;        // [n][k]
  const float* amax;      // [n]: the row's absmax (floored at 1e-5)
  const int32_t* blocks;  // [n][k/256 + 1]: sum of q per 256 elements, then the row's total
  int64_t stride() const { return (k + 255) / 256 + 1; }
  const int8_t* row(int64_t n) const { return q + n * k; }
  const int32_t* block_sums(int64_t n) const { return blocks + n * stride(); }
  int32_t total(int64_t n) const { return block_sums(n)[stride() - 1]; }
  // amax / 127 in double, as cpu-generic scales, so integer sums give identical results.
  double step(int64_t n) const { return static_cast<double>(amax[n]) / 127.0; }
};

struct BlockActs {
  std::vector<int8_t> q;
  std::vector<float> d;
  std::vector<int32_t> s;
  BlockView view(int64_t k) const { return {k, q.data(), d.data(), s.data()}; }
};

struct RowActs {
  std::vector<int8_t> q;
  std::vector<float> amax;
  std::vector<int32_t> sums;
  RowView view(int64_t k) const { return {k, q.data(), amax.data(), sums.data()}; }
};

// Rows of src1 (F32 [k, n]) at batch (i2, i3).
void quantize_blocks(const bitnet_tensor& x, int64_t i2, int64_t i3, BlockActs& out);
void quantize_rows(const bitnet_tensor& x, int64_t i2, int64_t i3, RowActs& out);

}  // namespace bitnet::cpu_neon

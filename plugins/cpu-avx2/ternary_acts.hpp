// Activation rows for the ternary prefill kernels (cpu-avx512): quantised per row exactly as
// backend.h specifies (so results equal cpu-generic's to the bit) and interleaved in groups of
// kActGroup rows, dword by dword, so that a kernel reaches element 4e..4e+3 of every row of a
// group through one base pointer and a constant offset: a vpdpbusd broadcasts that dword from
// memory against 16 weight rows at once.
#pragma once

#include <bitnet/backend.h>

#include <cstdint>
#include <vector>

namespace bitnet::cpu_avx2 {

inline constexpr int kActGroup = 16;

struct TernaryActs {
  int64_t k = 0, n = 0;
  std::vector<int8_t> q;      // per group: [k/4][kActGroup][4], rows past n zero
  std::vector<double> step;   // [n]: the row's absmax (floored at 1e-5) / 127, in double
  std::vector<int32_t> sums;  // [n][blocks + 1]: sum of q per 256 elements, then the row's total
  int64_t blocks() const { return (k + 255) / 256; }
  int64_t groups() const { return (n + kActGroup - 1) / kActGroup; }
  // Element 4e of row r of group g is at group(g) + e * 4 * kActGroup + 4 * r.
  const int8_t* group(int64_t g) const { return q.data() + g * kActGroup * k; }
  const int32_t* block_sums(int64_t row) const { return sums.data() + row * (blocks() + 1); }
  int32_t total(int64_t row) const { return block_sums(row)[blocks()]; }
};

// Rows of x (F32 [k, n], k a multiple of 16) at batch (i2, i3), groups split over the host's
// threads.
void prepare_ternary_acts(const bitnet_tensor& x, int64_t i2, int64_t i3, TernaryActs& out);

}  // namespace bitnet::cpu_avx2

// The I2_S prefill matmul with AVX-512 VNNI (the cpu-avx512 variant). kPanelRows weight rows are
// transposed once per matmul into a panel whose 64-byte lines hold the same packed dword (16
// codes) of every row; a vpdpbusd then multiplies 4 codes of each of the 16 rows by the same 4
// activations, broadcast from memory, and each accumulator lane ends as one output: no
// horizontal sums, no activation reordering, and each code vector serves up to kActGroup
// activation rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ternary_acts.hpp"

namespace bitnet::cpu_avx2 {

inline constexpr int kPanelRows = 16;

class I2sPanel {
 public:
  // Weight rows w, w + stride, ... (rows of them, 1 to kPanelRows; k elements each).
  void pack(const std::byte* w, size_t stride, int rows, int64_t k);
  // out[r * kPanelRows + i] = weight row i . activation row kActGroup * g + r for r < r_count,
  // with the tensor's `scale`, as cpu-generic computes it to the bit.
  void dot(const TernaryActs& a, int64_t g, int r_count, float scale, float* out) const;

 private:
  int64_t k_ = 0;
  std::vector<uint32_t> words_;  // [k / 16][kPanelRows]
};

}  // namespace bitnet::cpu_avx2

// The TQ2_0 prefill matmul with AVX-512 VNNI (the cpu-avx512 variant), in panels of kPanelRows
// weight rows as the I2_S kernel (i2s_vnni.hpp) does. Each 256-element block has its own scale,
// so per block every lane's integer sum is scaled and added in double in block order, as
// cpu-generic adds them: the results agree to the bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "i2s_vnni.hpp"
#include "ternary_acts.hpp"

namespace bitnet::cpu_avx2 {

class Tq2Panel {
 public:
  // Weight rows w, w + stride, ... (rows of them, 1 to kPanelRows; k elements each).
  void pack(const std::byte* w, size_t stride, int rows, int64_t k);
  // out[r * kPanelRows + i] = weight row i . activation row kActGroup * g + r for r < r_count.
  void dot(const TernaryActs& a, int64_t g, int r_count, float* out) const;

 private:
  int64_t k_ = 0;
  std::vector<uint32_t> words_;  // [k / 256][16 dwords of a block][kPanelRows]
  std::vector<double> scales_;   // [k / 256][kPanelRows]
};

}  // namespace bitnet::cpu_avx2

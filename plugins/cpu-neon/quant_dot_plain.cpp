// quant_dot.hpp on Armv8.0 NEON: widening multiplies of 8 int8 pairs, the two halves summed in
// 16 bits, then pairwise-added into 32-bit lanes. Two products fit in 16 bits because every
// operand pair has one side within [-127, 127]: activations are quantised to that range
// (|x| * 127 / max|x| never rounds past 127), and 2 * 128 * 127 < 32768.
#include <arm_neon.h>

#include "quant_kernels.hpp"

namespace bitnet::cpu_neon {
namespace {

struct Plain {
  static int32x4_t dot(int32x4_t acc, int8x16_t a, int8x16_t b) {
    return vpadalq_s16(acc, vmlal_high_s8(vmull_s8(vget_low_s8(a), vget_low_s8(b)), a, b));
  }
};

#include "quant_dot.hpp"

}  // namespace

const QuantKernels& plain_kernels() {
  static const QuantKernels k = table<Plain>();
  return k;
}

}  // namespace bitnet::cpu_neon

// quant_dot.hpp on Armv8.0 NEON: widening multiplies into 16-bit products, pairwise-added
// into 32-bit lanes. A product of two int8 values fits in 16 bits, so nothing saturates.
#include <arm_neon.h>

#include "quant_kernels.hpp"

namespace bitnet::cpu_neon {
namespace {

struct Plain {
  static int32x4_t dot(int32x4_t acc, int8x16_t a, int8x16_t b) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_high_s8(a, b));
  }
};

#include "quant_dot.hpp"

}  // namespace

const QuantKernels& plain_kernels() {
  static const QuantKernels k = table<Plain>();
  return k;
}

}  // namespace bitnet::cpu_neon

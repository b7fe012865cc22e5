// quant_dot.hpp with SDOT: one instruction multiplies 16 int8 pairs and adds each group of
// four into a 32-bit lane. This file alone is compiled with +dotprod (CMakeLists.txt).
#include <arm_neon.h>

#include "quant_kernels.hpp"

namespace bitnet::cpu_neon {
namespace {

struct Sdot {
  static int32x4_t dot(int32x4_t acc, int8x16_t a, int8x16_t b) { return vdotq_s32(acc, a, b); }
};

#include "quant_dot.hpp"

}  // namespace

const QuantKernels& sdot_kernels() {
  static const QuantKernels k = table<Sdot>();
  return k;
}

}  // namespace bitnet::cpu_neon

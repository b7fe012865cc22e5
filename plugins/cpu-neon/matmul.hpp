// MUL_MAT with NEON: float weights by FMA, quantised weights by int8 dot products against
// quantised activations, each weight row decoded once and used for up to four activation rows.
#pragma once

#include <bitnet/backend.h>

#include "quant_kernels.hpp"

namespace bitnet::cpu_neon {

// Every weight type cpu-generic multiplies has a kernel here; `kernels` are the int8 ones this
// CPU runs. Precondition: cpu_generic::check_mul_mat(dst) is "".
void mul_mat(const bitnet_tensor& dst, const QuantKernels& kernels);

}  // namespace bitnet::cpu_neon

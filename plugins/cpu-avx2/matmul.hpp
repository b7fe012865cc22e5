// MUL_MAT with AVX2: float weights by FMA, quantised weights by int8 dot products against
// quantised activations, each weight row decoded once and used for up to four activation rows.
#pragma once

#include <bitnet/backend.h>

#include <cstdint>

namespace bitnet::cpu_avx2 {

// Every weight type cpu-generic multiplies has a kernel here.
// Precondition: cpu_generic::check_mul_mat(dst) is "".
void mul_mat(const bitnet_tensor& dst);

}  // namespace bitnet::cpu_avx2

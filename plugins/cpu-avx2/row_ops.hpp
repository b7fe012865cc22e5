// The row-wise ops with AVX2 (ADD, MUL, SCALE, GLU, CPY, RMS_NORM) in cpu-generic's arithmetic
// and order of rounding, vectorised across the elements of a row or, where the reference sums
// along a row, across rows, so that results equal cpu-generic's to the bit (GLU with SiLU: to
// its vector exp, within an ulp of double before the result rounds to float).
#pragma once

#include <bitnet/backend.h>

namespace bitnet::cpu_avx2 {

// Preconditions: cpu-generic's check of the op (check_binary, check_unary, ...) is "".
void binary(const bitnet_tensor& dst, bool add);
void scale(const bitnet_tensor& dst);
void cpy(const bitnet_tensor& dst);
void glu(const bitnet_tensor& dst);
void rms_norm(const bitnet_tensor& dst);

}  // namespace bitnet::cpu_avx2

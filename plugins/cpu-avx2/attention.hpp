// ATTENTION with AVX2, in cpu-generic's double arithmetic and order of operations, so the two
// agree to the bit.
#pragma once

#include <bitnet/backend.h>

namespace bitnet::cpu_avx2 {

// Precondition: cpu_generic::check_attention(dst) is "".
void attention(const bitnet_tensor& dst);

}  // namespace bitnet::cpu_avx2
